import type { Line } from '../chart.js';
import type { TrainPoint } from './protocol.js';

/** A model's training loss (thin) and validation loss (thick) against steps or seconds. */
export function lossLines(run: { label: string; color: string; points: TrainPoint[] }, x: 'step' | 'seconds'): Line[] {
  const { label, color, points } = run;
  return [
    { label, color, kind: 'train', points: points.map((p): [number, number] => [p[x], p.trainLoss]) },
    { label, color, kind: 'val', points: points.filter((p) => p.valLoss !== undefined).map((p): [number, number] => [p[x], p.valLoss!]) },
  ];
}
