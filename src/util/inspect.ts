/**
 * What console.log() and JSON.stringify() show of asynkit's objects: their
 * toString(), not their fields. A task's fields reach its loop, and through it
 * every other task: printed whole, one task took hundreds of lines and said
 * neither its state nor what it waits on, and JSON.stringify() of a log record
 * holding one threw "Converting circular structure to JSON".
 */

/** Node's util.inspect() hook, a registered symbol: no import of node:util. */
const inspectCustom = Symbol.for("nodejs.util.inspect.custom");

/**
 * util.inspect() (console.log) shows each instance of `cls` as `show` says;
 * JSON.stringify() writes its String().
 */
export function inspectAs<T extends object>(
  cls: { prototype: T },
  show: (instance: T) => string,
): void {
  Object.defineProperty(cls.prototype, inspectCustom, {
    value(this: T): string {
      return show(this);
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(cls.prototype, "toJSON", {
    value(this: T): string {
      return String(this);
    },
    writable: true,
    configurable: true,
  });
}

/** util.inspect() (console.log) shows each instance of `classes` as String() does. */
export function inspectAsString(...classes: { prototype: object }[]): void {
  for (const cls of classes) inspectAs(cls, String);
}

/**
 * The class name a repr shows: the instance's class's, or, for an anonymous
 * subclass (`class extends Lock {}`), its nearest named ancestor's. A class
 * of asynkit's whose body names itself says its name in `_className`: a
 * bundler renames such a class (esbuild: `var Task = class _Task`), even
 * without minifying.
 */
export function classNameOf(instance: object): string {
  for (
    let proto = Object.getPrototypeOf(instance);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const cls = (proto as { constructor?: { name?: unknown; _className?: string } }).constructor;
    const name: unknown =
      cls != null && Object.hasOwn(cls, "_className") ? cls._className : cls?.name;
    if (typeof name === "string" && name !== "") return name;
  }
  return "Object";
}
