#!/usr/bin/python3
"""MACs of one run of an exported ONNX graph, split into the transformer blocks and the rest, counted from shapes
the way bench/generation/macs.py counts them (MatMul, Gemm, Conv, ConvTranspose), reading the graph without its
external weights (a 5 GB transformer's weights are not needed to count).

    /usr/bin/python3 bench/text-to-image/macs_by_block.py GENERATION_BENCH_DIR MODEL.onnx name=dim,... [...]

Prints JSON: {"macs": N, "byOp": {...}, "uncounted": [...], "perBlock": {"0": N, ...}, "outsideBlocks": N}. A node
belongs to block i when its name contains "blocks.i/" or "blocks.i." (torch.onnx.export names nodes after modules).
"""

import json
import math
import re
import sys

import onnx
from onnx import shape_inference

BLOCK = re.compile(r'blocks\.(\d+)[./]')


def main(argv):
    sys.path.insert(0, argv[0])
    import macs  # bench/generation/macs.py: fix_inputs, static_shape

    path, specs = argv[1], argv[2:]
    shapes = {name: [int(d) for d in dims.split(',')] for name, dims in (s.split('=', 1) for s in specs)}
    model = onnx.load(path, load_external_data=False)
    macs.fix_inputs(model, shapes)
    model = shape_inference.infer_shapes(model, data_prop=True)
    known = {}
    for value in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
        shape = macs.static_shape(value)
        if shape is not None:
            known[value.name] = shape
    for init in model.graph.initializer:
        known[init.name] = list(init.dims)

    total, by_op, uncounted, per_block, outside = 0, {}, [], {}, 0
    for node in model.graph.node:
        if node.op_type not in ('MatMul', 'Gemm', 'Conv', 'ConvTranspose'):
            continue
        a, w, out = known.get(node.input[0]), known.get(node.input[1]), known.get(node.output[0])
        if a is None or w is None or out is None:
            uncounted.append(node.name or node.op_type)
            continue
        if node.op_type == 'MatMul':
            n = math.prod(out) * a[-1]
        elif node.op_type == 'Gemm':
            trans_a = next((attr.i for attr in node.attribute if attr.name == 'transA'), 0)
            n = math.prod(out) * (a[0] if trans_a else a[-1])
        elif node.op_type == 'Conv':
            n = math.prod(out) * math.prod(w[1:])
        else:
            n = math.prod(a) * math.prod(w[1:])
        total += n
        by_op[node.op_type] = by_op.get(node.op_type, 0) + n
        block = BLOCK.search(node.name or '')
        if block:
            per_block[block.group(1)] = per_block.get(block.group(1), 0) + n
        else:
            outside += n
    print(json.dumps({'macs': total, 'byOp': by_op, 'uncounted': uncounted, 'perBlock': per_block,
                      'outsideBlocks': outside}))


if __name__ == '__main__':
    main(sys.argv[1:])
