import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeEnvironment } from '../environment.js';
import type { Suite } from '../suite/types.js';
import type { RunResult } from '../tasks/types.js';
import { writeReport } from './write.js';

// lm-char charts gpt and hsm-ab; mqar charts only hsm-ab and mamba, so hsm-ab is the first of mqar's series.
const suite: Suite = {
  name: 'colours',
  seed: 1,
  benchmarks: [
    { name: 'lm', task: 'lm-char', models: { gpt: { layers: 'softmax-attention' }, 'hsm-ab': { layers: 'hsm-ab' } }, presets: { quick: {} } },
    { name: 'recall', task: 'mqar', models: { 'hsm-ab': { layers: 'hsm-ab' }, mamba: { layers: 'hsm-ab*2' } }, presets: { quick: {} } },
  ],
};

const environment = describeEnvironment({ backend: 'cpu', software: false });

function result(benchmark: string, task: RunResult['task'], model: string, setting: Record<string, number> = {}): RunResult {
  return {
    format: 1,
    id: `${benchmark}--${model}`,
    configHash: model,
    suite: 'colours',
    preset: 'quick',
    benchmark,
    task,
    model,
    layers: model,
    setting,
    config: {},
    paramCount: 1,
    metrics: { accuracy: 0.5, bestValLoss: 1 },
    series: {
      valLossByStep: [
        [1, 2],
        [2, 1],
      ],
      valLossBySeconds: [
        [1, 2],
        [2, 1],
      ],
    },
    environment,
    startedAt: '',
    finishedAt: '',
    seconds: 1,
  };
}

/** The stroke colour of each named series in a chart file. */
function seriesColours(file: string): Record<string, string> {
  const svg = readFileSync(file, 'utf8');
  const found = [...svg.matchAll(/<g class="series" data-name="([^"]+)">\n<(?:polyline|circle)[^>]* (?:stroke|fill)="(#[0-9A-Fa-f]{6})"/g)];
  return Object.fromEntries(found.map((m) => [m[1], m[2]]));
}

describe('report charts', () => {
  it('give a model the same colour in every chart of a report, whichever other models a chart shows', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'shiftmix-report-'));
    const mqar = (model: string) => result('recall', 'mqar', model, { seqLen: 8, pairs: 1, dim: 8, lr: 0.001 });
    const results = new Map([
      ['lm', [result('lm', 'lm-char', 'gpt'), result('lm', 'lm-char', 'hsm-ab')]],
      ['recall', [mqar('hsm-ab'), mqar('mamba')]],
    ]);
    const report = writeReport({ outDir, suite, preset: 'quick', backendLabel: 'cpu', environment, results });
    const [lm, recall] = report.benchmarks.map((b) => seriesColours(b.charts[0]));
    expect(Object.keys(lm)).toEqual(['gpt', 'hsm-ab']);
    expect(Object.keys(recall)).toEqual(['hsm-ab', 'mamba']);
    expect(recall['hsm-ab']).toBe(lm['hsm-ab']);
    // Every model of the suite has a colour of its own.
    expect(new Set([lm.gpt, lm['hsm-ab'], recall.mamba]).size).toBe(3);
  });
});
