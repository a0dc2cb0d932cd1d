import { ShiftmixError } from '@shiftmix/core';
import { ELEM_BYTES, decodeModel, type ModelData } from './onnx-proto.js';

/** The lowest opset the exporter writes (LayerNormalization arrived in 17). */
export const MIN_OPSET = 17;

/**
 * Structural problems of a decoded model, empty when there are none: a node reading a
 * value nothing defines (or defines only later), a value defined twice, an initializer
 * whose bytes do not match its shape, a graph output nothing produces, a missing opset.
 */
export function findProblems(model: ModelData): string[] {
  const problems: string[] = [];
  const onnxOpset = model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!onnxOpset) problems.push('no opset_import for the default ONNX domain');
  else if (onnxOpset.version < MIN_OPSET) problems.push(`opset ${onnxOpset.version} is below ${MIN_OPSET}`);
  if (model.irVersion <= 0) problems.push('ir_version is missing');

  const graph = model.graph;
  const defined = new Set<string>();
  const define = (name: string, by: string): void => {
    if (!name) problems.push(`${by} defines a value with an empty name`);
    else if (defined.has(name)) problems.push(`value "${name}" is defined twice (again by ${by})`);
    defined.add(name);
  };
  for (const input of graph.inputs) define(input.name, 'a graph input');
  for (const t of graph.initializers) {
    define(t.name, 'an initializer');
    const count = t.dims.reduce((a, b) => a * b, 1);
    if (t.dims.some((d) => !Number.isInteger(d) || d < 0)) problems.push(`initializer "${t.name}" has invalid dims [${t.dims.join(', ')}]`);
    const expected = count * ELEM_BYTES[t.dtype];
    if (t.raw.byteLength !== expected) {
      problems.push(`initializer "${t.name}" [${t.dims.join(', ')}] ${t.dtype} holds ${t.raw.byteLength} bytes, expected ${expected}`);
    }
  }
  const nodeNames = new Set<string>();
  graph.nodes.forEach((node, index) => {
    const label = `node ${index} (${node.opType} "${node.name}")`;
    if (!node.opType) problems.push(`${label} has no op_type`);
    if (node.name) {
      if (nodeNames.has(node.name)) problems.push(`${label}: node name used twice`);
      nodeNames.add(node.name);
    }
    for (const input of node.inputs) {
      // An empty input name marks an omitted optional input.
      if (input && !defined.has(input)) problems.push(`${label} reads "${input}", which is not defined before it`);
    }
    if (node.outputs.length === 0) problems.push(`${label} has no outputs`);
    for (const output of node.outputs) define(output, label);
  });
  const outputNames = new Set<string>();
  for (const output of graph.outputs) {
    if (!defined.has(output.name)) problems.push(`graph output "${output.name}" is not produced by any node`);
    if (outputNames.has(output.name)) problems.push(`graph output "${output.name}" is listed twice`);
    outputNames.add(output.name);
  }
  return problems;
}

/** Decodes ONNX bytes and checks their structure; throws a ShiftmixError listing the problems. */
export function checkModel(bytes: Uint8Array): ModelData {
  let model: ModelData;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw new ShiftmixError(`the ONNX file does not decode: ${(error as Error).message}`, 'Re-export the model', 'E_ONNX_INVALID');
  }
  const problems = findProblems(model);
  if (problems.length) {
    const shown = problems.slice(0, 10).join('; ');
    const more = problems.length > 10 ? ` (and ${problems.length - 10} more)` : '';
    throw new ShiftmixError(
      `the ONNX graph "${model.graph.name}" is malformed: ${shown}${more}`,
      'This is an exporter or mixer lowering bug; report it with the model config',
      'E_ONNX_INVALID',
    );
  }
  return model;
}
