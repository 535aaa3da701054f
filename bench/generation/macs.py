#!/usr/bin/python3
"""Multiply-accumulates of one run of an exported ONNX graph, counted from its shapes (nothing is computed).

    /usr/bin/python3 bench/generation/macs.py MODEL.onnx name=dim,dim,... [name=...]

Fixes the named inputs' shapes (e.g. z=1,512 or ray_origins=1,4096,3), runs ONNX shape inference and sums the
MACs of MatMul, Gemm, Conv and ConvTranspose nodes; elementwise ops, softmax and norms are not counted (they are a
few percent of these models' work). Prints JSON: {"macs": N, "byOp": {...}, "uncounted": [nodes without shapes]}.
"""

import json
import math
import sys

import onnx
from onnx import shape_inference


def fix_inputs(model, shapes):
    for value in model.graph.input:
        if value.name not in shapes:
            continue
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(dims, shapes[value.name]):
            dim.Clear()
            dim.dim_value = size


def static_shape(value_info):
    dims = value_info.type.tensor_type.shape.dim
    if not all(d.HasField('dim_value') for d in dims):
        return None
    return [d.dim_value for d in dims]


COUNTED = ('MatMul', 'Gemm', 'Conv', 'ConvTranspose')


def load_with_shapes(path, shapes):
    """The graph with `shapes` fixed and shapes inferred, and every static tensor shape by name."""
    # Shapes are all it needs: weights in ONNX external data (a 5 GB transformer) stay on disk.
    model = onnx.load(path, load_external_data=False)
    fix_inputs(model, shapes)
    model = shape_inference.infer_shapes(model, data_prop=True)
    known = {}
    for value in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        shape = static_shape(value)
        if shape is not None:
            known[value.name] = shape
    for init in model.graph.initializer:
        known[init.name] = list(init.dims)
    return model, known


def node_macs(node, known):
    """MACs of a COUNTED node, or None when its shapes are not static."""
    a = known.get(node.input[0])
    w = known.get(node.input[1])
    out = known.get(node.output[0])
    if a is None or w is None or out is None:
        return None
    if node.op_type == 'MatMul':
        return math.prod(out) * a[-1]
    if node.op_type == 'Gemm':
        trans_a = next((attr.i for attr in node.attribute if attr.name == 'transA'), 0)
        return math.prod(out) * (a[0] if trans_a else a[-1])
    if node.op_type == 'Conv':  # out × (Cin/groups) × kernel area; W is [Cout, Cin/groups, kh, kw]
        return math.prod(out) * math.prod(w[1:])
    # ConvTranspose: every input element meets Cout/groups × kernel area weights; W is [Cin, Cout/g, kh, kw]
    return math.prod(a) * math.prod(w[1:])


def parse_shapes(specs):
    return {name: [int(d) for d in dims.split(',')] for name, dims in (s.split('=', 1) for s in specs)}


def main(argv):
    model, known = load_with_shapes(argv[0], parse_shapes(argv[1:]))
    total, by_op, uncounted = 0, {}, []
    for node in model.graph.node:
        if node.op_type not in COUNTED:
            continue
        macs = node_macs(node, known)
        if macs is None:
            uncounted.append(node.name or node.op_type)
            continue
        total += macs
        by_op[node.op_type] = by_op.get(node.op_type, 0) + macs
    print(json.dumps({'macs': total, 'byOp': by_op, 'uncounted': uncounted}))


if __name__ == '__main__':
    main(sys.argv[1:])
