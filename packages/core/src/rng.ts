/**
 * A small seedable generator (SplitMix32) whose whole state is one integer, so a
 * checkpoint can store it and a resumed run draws exactly the numbers the
 * uninterrupted run would have drawn.
 */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  get state(): number {
    return this.s;
  }

  set state(value: number) {
    this.s = value >>> 0;
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A fresh seed for a tfjs random op (dropout masks, initializers). */
  seed(): number {
    return this.nextUint32() % 2147483647;
  }
}
