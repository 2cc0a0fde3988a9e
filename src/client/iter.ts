// Small helpers over async iterables; kept free of heavy imports (commands load it at start-up).

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
