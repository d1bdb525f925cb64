/**
 * One-at-a-time sections per key inside this process: two pushes to the same repository must not
 * run `git init` or `git fetch` in its mirror at the same time. (Several gateway replicas each keep
 * their own mirrors, so an in-process lock is enough; git's own lock files guard the rest.)
 */
export interface KeyedMutex {
  run<T>(key: string, section: () => Promise<T>): Promise<T>;
}

export function createKeyedMutex(): KeyedMutex {
  /** The tail of each key's queue; removed when the last waiter finishes, so idle keys cost nothing. */
  const tails = new Map<string, Promise<void>>();
  return {
    async run<T>(key: string, section: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tail = previous.then(() => mine);
      tails.set(key, tail);
      await previous;
      try {
        return await section();
      } finally {
        release();
        if (tails.get(key) === tail) tails.delete(key);
      }
    },
  };
}
