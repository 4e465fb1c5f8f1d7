/**
 * A web-crawler-like fan-out with eager fetches. The example starts a small
 * site on 127.0.0.1 (node:http, every response takes 25 ms) and crawls it twice:
 *
 * - sequentially: each link is crawled to the end before the next is started;
 * - eagerly: `eager(crawl(link))` runs each child crawl at once, in the caller's
 *   stack, until its request is on the wire, and hands control straight back,
 *   so all the links of a page are in flight together.
 *
 * Both produce the same tree in the same order; the eager crawl takes about one
 * round trip per level instead of one per page. Run it with
 * `npx tsx examples/crawler.ts`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type Awaitable, type Coro, eager, fromPromise, run } from "asynkit";

const LATENCY_MS = 25;

const SITE: Record<string, { title: string; links: string[] }> = {
  "/": { title: "Home", links: ["/docs", "/blog", "/shop"] },
  "/docs": { title: "Docs", links: ["/docs/intro", "/docs/api"] },
  "/docs/intro": { title: "Introduction", links: [] },
  "/docs/api": { title: "API", links: [] },
  "/blog": { title: "Blog", links: ["/blog/1", "/blog/2"] },
  "/blog/1": { title: "First post", links: [] },
  "/blog/2": { title: "Second post", links: [] },
  "/shop": { title: "Shop", links: ["/shop/cart"] },
  "/shop/cart": { title: "Cart", links: [] },
};

/** Serves SITE as HTML after LATENCY_MS, and counts how many requests are open at once. */
function startSite() {
  const stats = { requests: 0, open: 0, mostOpen: 0 };
  const server = createServer((request, response) => {
    const page = SITE[request.url ?? ""];
    stats.requests++;
    stats.mostOpen = Math.max(stats.mostOpen, ++stats.open);
    setTimeout(() => {
      stats.open--;
      if (page === undefined) {
        response.writeHead(404).end();
        return;
      }
      const links = page.links.map((href) => `<a href="${href}">${SITE[href]?.title}</a>`);
      response.writeHead(200, { "content-type": "text/html" });
      response.end(`<title>${page.title}</title>${links.join(" ")}`);
    }, LATENCY_MS);
  });
  return { server, stats };
}

interface Page {
  path: string;
  title: string;
  children: Page[];
}

/** How a parent starts the crawl of one of its links: returns something to `yield*` later. */
type Start = (child: Coro<Page>) => Awaitable<Page>;

function* crawl(origin: string, path: string, start: Start): Coro<Page> {
  const response = yield* fromPromise(fetch(origin + path));
  if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
  const html = yield* fromPromise(response.text());
  const title = /<title>(.*?)<\/title>/.exec(html)?.[1] ?? path;
  const links = [...html.matchAll(/href="([^"]+)"/g)].map((match) => match[1] as string);
  const started = links.map((link) => start(crawl(origin, link, start)));
  const children: Page[] = [];
  for (const child of started) children.push(yield* child);
  return { path, title, children };
}

function* sequential(origin: string): Coro<Page> {
  // A plain coroutine runs only when it is waited for: one request at a time.
  return yield* crawl(origin, "/", (child) => child);
}

function* eagerly(origin: string): Coro<Page> {
  // eager() starts the child now; what it returns is waited for later.
  return yield* crawl(origin, "/", (child) => eager(child));
}

function outline(page: Page, depth = 0): string[] {
  const line = `${"  ".repeat(depth)}${page.path.padEnd(16 - 2 * depth)} ${page.title}`;
  return [line, ...page.children.flatMap((child) => outline(child, depth + 1))];
}

const { server, stats } = startSite();
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

try {
  const timings: Record<string, number> = {};
  const trees: string[][] = [];
  for (const [name, crawler] of [
    ["sequential", sequential],
    ["eager", eagerly],
  ] as const) {
    stats.requests = stats.mostOpen = 0;
    const began = performance.now();
    const tree = await run(crawler(origin));
    timings[name] = performance.now() - began;
    trees.push(outline(tree));
    console.log(
      `${name.padEnd(10)} ${stats.requests} requests, at most ${stats.mostOpen} in flight at once`,
    );
  }
  console.log(`same tree both ways: ${JSON.stringify(trees[0]) === JSON.stringify(trees[1])}`);
  console.log(`eager was faster: ${(timings.eager ?? 0) < (timings.sequential ?? 0)}`);
  console.log();
  for (const line of trees[1] ?? []) console.log(line);
  const roundTrips = (ms: number | undefined) => ((ms ?? 0) / LATENCY_MS).toFixed(1);
  console.log();
  console.log(
    `took about ${roundTrips(timings.sequential)} round trips sequentially, ${roundTrips(timings.eager)} eagerly`,
  );
} finally {
  server.closeAllConnections();
  server.close();
}
