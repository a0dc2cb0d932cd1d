/** Where a tensor's values stop being numbers: the first bad value, its index and how many there are. */
export interface NonFinite {
  index: number;
  value: number;
  count: number;
}

/** The non-finite values of `data` (NaN, Infinity, -Infinity), or undefined when there are none. */
export function findNonFinite(data: ArrayLike<number>): NonFinite | undefined {
  let first = -1;
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for every finite x and NaN otherwise: one test for NaN and both infinities.
    if (data[i] - data[i] !== 0) {
      if (first === -1) first = i;
      count++;
    }
  }
  return first === -1 ? undefined : { index: first, value: data[first], count };
}

/** `tensor "name" holds NaN (3 of 1024 values are not finite, the first at index 17)`. */
export function describeNonFinite(name: string, size: number, bad: NonFinite): string {
  return `tensor "${name}" holds ${bad.value} (${bad.count} of ${size} values are not finite, the first at index ${bad.index})`;
}
