/**
 * Fine-grained dependency tracking for the incremental planner.
 *
 * Units (one per Port_Binding row) and memoised nodes (derived topology: a datapath's provider
 * bridge, a router's local gateways, a tenant datapath's exposed subnets) record every key they
 * read while they compute. When a change touches a key, exactly the nodes and units that read it
 * are invalidated (nodes transitively), so a change to one row recomputes only what it affects.
 *
 * Ids: units are "u:<uuid>", nodes "n:<name>", raw keys "k:<what>".
 */
export class DepGraph {
  /** key or node id → dependents (units or nodes) that read it. */
  private readonly readers = new Map<string, Set<string>>();
  /** dependent → the key(s) it read in its last computation (may repeat; one key unboxed). */
  private readonly deps = new Map<string, string | string[]>();
  private readonly nodeValues = new Map<string, unknown>();
  private readonly stack: string[][] = [];
  /** True between clear() and the end of the first full computation: nothing to forget yet. */
  fresh = true;

  /** Record that the computation in progress read `key`. */
  read(key: string): void {
    this.stack[this.stack.length - 1]?.push(key);
  }

  /** Run `fn` as the computation of `dependent`, replacing its recorded dependencies. */
  track<T>(dependent: string, fn: () => T): T {
    if (!this.fresh) this.forget(dependent);
    const keys: string[] = [];
    this.stack.push(keys);
    try {
      return fn();
    } finally {
      this.stack.pop();
      if (keys.length === 1) this.deps.set(dependent, keys[0] as string);
      else if (keys.length > 1) this.deps.set(dependent, keys);
      for (const k of keys) {
        let set = this.readers.get(k);
        if (!set) {
          set = new Set();
          this.readers.set(k, set);
        }
        set.add(dependent);
      }
    }
  }

  /** A memoised node: computed once, reused until one of its keys is touched. */
  node<T>(id: string, compute: () => T): T {
    this.read(id);
    if (this.nodeValues.has(id)) return this.nodeValues.get(id) as T;
    const value = this.track(id, compute);
    this.nodeValues.set(id, value);
    return value;
  }

  /** Drop a dependent's recorded reads (a unit whose row is gone). */
  forget(dependent: string): void {
    const found = this.deps.get(dependent);
    if (found === undefined) return;
    for (const k of typeof found === "string" ? [found] : found) {
      const set = this.readers.get(k);
      if (!set) continue;
      set.delete(dependent);
      if (set.size === 0) this.readers.delete(k);
    }
    this.deps.delete(dependent);
  }

  /** Invalidate everything that read `keys` (nodes transitively); returns the dirty units' ids. */
  touch(keys: Iterable<string>, dirtyUnits: Set<string>): void {
    const queue = [...keys];
    while (queue.length > 0) {
      const key = queue.pop() as string;
      const readers = this.readers.get(key);
      if (!readers) continue;
      for (const d of [...readers]) {
        if (d.startsWith("n:")) {
          if (this.nodeValues.delete(d)) {
            this.forget(d);
            queue.push(d);
          }
        } else dirtyUnits.add(d);
      }
    }
  }

  clear(): void {
    this.fresh = true;
    this.readers.clear();
    this.deps.clear();
    this.nodeValues.clear();
  }
}
