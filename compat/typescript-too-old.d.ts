/*
 * asynkit's type declarations need TypeScript 5.6 or later: they use the
 * generic iterator types of 5.6 (Iterable<T, TReturn, TNext>), which an older
 * compiler reads as errors, or, with skipLibCheck, as `any` everywhere. This
 * stands in for them on older compilers, so that every import of asynkit
 * fails where it is written instead. Upgrade TypeScript (docs/getting-started.md).
 */
export declare const asynkitNeedsTypeScript5_6OrLater: never;
