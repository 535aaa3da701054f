// A small observable state holder and its Preact binding: the panel's model keeps its state here, components read it
// through useStore and change it only through the model's actions (as OfficialModelsStore does for the catalogue).
import { useEffect, useState } from 'preact/hooks';

export class Store<S extends object> {
  private current: S;
  private readonly listeners = new Set<(s: S) => void>();

  constructor(initial: S) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  /** Merges `patch` (or what it returns for the current state) into the state; fields not named keep their identity,
   *  so memoised views of them do not recompute on every change. */
  set(patch: Partial<S> | ((s: S) => Partial<S>)): void {
    const next = typeof patch === 'function' ? patch(this.current) : patch;
    this.current = { ...this.current, ...next };
    for (const listener of this.listeners) listener(this.current);
  }

  subscribe(listener: (s: S) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The store's state, re-rendering the component on each change (Preact batches several changes into one render). */
export function useStore<S extends object>(store: Store<S>): S {
  const [state, setState] = useState(store.state);
  useEffect(() => {
    setState(store.state); // a change between the first render and this effect
    return store.subscribe(setState);
  }, [store]);
  return state;
}
