import { execFileSync } from 'node:child_process';
import { cpus, platform, release, totalmem } from 'node:os';
import { tf, type BackendInfo } from '@shiftmix/core';

/** Where a result was measured; stored with every run so numbers are never compared blind. */
export interface Environment {
  backend: string;
  adapter?: string;
  /** True when the adapter is a software rasterizer: its timings say little about a GPU. */
  software: boolean;
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  tfjs: string;
  /** The wasm backend's kernels ("native, openblas", or why tfjs's own run). */
  kernels?: string;
  /** Threads that shared each training step. */
  workers: number;
  gitCommit?: string;
}

function gitCommit(cwd: string): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.toString().trim() + (dirty.toString().trim() ? '+dirty' : '');
  } catch {
    return undefined;
  }
}

export function describeEnvironment(info: BackendInfo, cwd = process.cwd(), workers = 1): Environment {
  const cpu = cpus();
  return {
    backend: info.backend,
    adapter: info.adapter,
    software: info.software ?? false,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
    tfjs: tf.version_core,
    kernels: info.kernels,
    workers,
    gitCommit: gitCommit(cwd),
  };
}
