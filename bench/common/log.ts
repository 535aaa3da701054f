// The benches' progress log: every line stamped with the seconds since the bench started.
const started = performance.now();

/** Seconds since the bench started. */
export const benchSeconds = () => (performance.now() - started) / 1000;

export const log = (line: string) => console.log(`[${benchSeconds().toFixed(0)} s] ${line}`);
