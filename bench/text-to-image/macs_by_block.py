#!/usr/bin/python3
"""MACs of one run of an exported ONNX graph, split into the transformer blocks and the rest, counted from shapes
the way bench/generation/macs.py counts them (MatMul, Gemm, Conv, ConvTranspose), reading the graph without its
external weights (a 5 GB transformer's weights are not needed to count).

    /usr/bin/python3 bench/text-to-image/macs_by_block.py GENERATION_BENCH_DIR MODEL.onnx name=dim,... [...]

Prints JSON: {"macs": N, "byOp": {...}, "uncounted": [...], "perBlock": {"0": N, ...}, "outsideBlocks": N}. A node
belongs to block i when its name contains "blocks.i/" or "blocks.i." (torch.onnx.export names nodes after modules).
"""

import json
import re
import sys

BLOCK = re.compile(r'blocks\.(\d+)[./]')


def main(argv):
    sys.path.insert(0, argv[0])
    import macs  # bench/generation/macs.py: the same shapes and the same count per node

    model, known = macs.load_with_shapes(argv[1], macs.parse_shapes(argv[2:]))
    total, by_op, uncounted, per_block, outside = 0, {}, [], {}, 0
    for node in model.graph.node:
        if node.op_type not in macs.COUNTED:
            continue
        n = macs.node_macs(node, known)
        if n is None:
            uncounted.append(node.name or node.op_type)
            continue
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
