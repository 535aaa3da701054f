#!/usr/bin/python3
"""Exports one model to ONNX (opset 17) plus its model card, after checking onnxruntime-node against PyTorch.

    /usr/bin/python3 models/export/export.py <model-id> (--checkpoint FILE | --tiny) --out DIR [--seed N]
        [--dump-reference FILE]
    /usr/bin/python3 models/export/export.py <model-id> --checkpoint FILE --load-only

Writes DIR/<id>.<sha16>.onnx and DIR/<id>.card.json (<id> gets '-tiny' for --tiny). Families are found through
families.py's FAMILIES (model-id prefix → module in this folder); each module implements the interface in README.md.
--dump-reference writes the check's inputs and PyTorch outputs as JSON, for tests that run the ONNX themselves.
--load-only checks that a checkpoint loads with strict=True (seconds, no ONNX; a full export can take minutes).
"""

import argparse
import importlib
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import onnx  # noqa: E402
import torch  # noqa: E402

import common  # noqa: E402
from families import FAMILIES  # noqa: E402  (its own module: templates do not pin it, see families.py)

OPSET = 17
CARD_ORDER = ('id', 'task', 'label', 'description', 'variant', 'files', 'io', 'license', 'source', 'targets', 'notes')


def load_family(model_id):
    prefix = model_id.split('-', 1)[0]
    if prefix not in FAMILIES:
        raise common.ExportError(f'unknown model family {prefix!r} in {model_id!r}; known: {", ".join(FAMILIES)}')
    family = importlib.import_module(FAMILIES[prefix])
    if model_id not in family.MODELS:
        raise common.ExportError(f'unknown model id {model_id!r}; {prefix} exports: {", ".join(family.MODELS)}')
    return family


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('model_id')
    parser.add_argument('--checkpoint', help='official checkpoint file (with --tiny: one in the official layout at '
                                             'tiny width, for tests that compare converters)')
    parser.add_argument('--tiny', action='store_true', help='tiny width, seeded random weights (test model)')
    parser.add_argument('--out', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random weights (--tiny)')
    parser.add_argument('--dump-reference', metavar='FILE', help='write check inputs + PyTorch outputs as JSON')
    parser.add_argument('--load-only', action='store_true', help='only check that --checkpoint loads (strict)')
    args = parser.parse_args(argv)
    if args.load_only and not args.checkpoint:
        parser.error('--load-only needs --checkpoint')
    if not args.load_only and not args.out:
        parser.error('--out is required')
    if args.model_id.endswith('-tiny'):  # "<id>-tiny" is accepted as "<id> --tiny"
        if args.checkpoint:
            parser.error('a -tiny model id takes random weights, not --checkpoint')
        args.model_id, args.tiny = args.model_id[:-len('-tiny')], True
    if not args.tiny and not args.checkpoint:
        parser.error('one of --checkpoint FILE or --tiny is required')
    return args


def as_tuple(outputs):
    return outputs if isinstance(outputs, (tuple, list)) else (outputs,)


def describe(feeds):
    return ', '.join(f'{k}={v.item():g}' if v.numel() == 1 else f'{k} {list(v.shape)}' for k, v in feeds.items())


def run_reference(spec, log):
    """PyTorch outputs for every compare input: [(feeds, outputs)], both {name: tensor}."""
    reference = []
    t0 = time.time()
    with torch.no_grad():
        for inputs in spec['compare_inputs']:
            outputs = as_tuple(spec['module'](*inputs))
            reference.append((dict(zip(spec['input_names'], inputs)), dict(zip(spec['output_names'], outputs))))
    log(f'PyTorch: {len(reference)} runs in {time.time() - t0:.1f} s')
    return reference


def name_output_dims(onnx_path, outputs, dynamic_axes):
    """Writes the outputs' static dims into the graph (the tracer leaves e.g. [batch, ?, ?, ?]), so onnxruntime's
    output metadata tells clients the image size; dynamic axes keep their names."""
    model = onnx.load(onnx_path, load_external_data=False)  # above 2 GB: rewrite the graph, weights stay outside
    for value in model.graph.output:
        if value.name not in outputs:
            continue
        named = dynamic_axes.get(value.name, {})
        dims = value.type.tensor_type.shape.dim
        for axis, size in enumerate(outputs[value.name].shape):
            dims[axis].Clear()
            if axis in named:
                dims[axis].dim_param = named[axis]
            else:
                dims[axis].dim_value = size
    onnx.save(model, onnx_path)


def check_onnx(onnx_path, spec, reference, log):
    """Runs the compare inputs on onnxruntime-node; raises above the family's tolerance. Returns the largest
    difference."""
    t0 = time.time()
    ort_outputs = common.run_onnx_node(onnx_path, [feeds for feeds, _ in reference])
    log(f'onnxruntime-node: {len(reference)} runs in {time.time() - t0:.1f} s')
    worst = 0.0
    for i, ((feeds, expected), got) in enumerate(zip(reference, ort_outputs)):
        for name, tensor in expected.items():
            want = tensor.detach().numpy()
            if name not in got or tuple(got[name].shape) != want.shape:
                shape = tuple(got[name].shape) if name in got else None
                raise common.ExportError(f'run {i}: output {name} shape {shape} from onnxruntime-node, '
                                         f'PyTorch gives {want.shape}')
            diff = float(abs(got[name].astype('float64') - want.astype('float64')).max())
            log(f'run {i} ({describe(feeds)}): {name} max |ONNX − PyTorch| = {diff:.3g}')
            if not diff <= spec['tolerance']:  # also catches NaN
                raise common.ExportError(f'ONNX output {name} differs from PyTorch by {diff:.3g} on run {i} '
                                         f'(bound {spec["tolerance"]:.3g}); the export is wrong, not written.')
            worst = max(worst, diff)
    return worst


def export(args, log=print):
    torch.set_num_threads(2)
    family = load_family(args.model_id)
    card_id = common.card_id(args.model_id, args.tiny)
    started = time.time()

    torch.manual_seed(args.seed)  # the tiny variant's random weights come from torch's global RNG
    model = family.build(args.model_id, args.tiny)
    if args.checkpoint:
        family.load_checkpoint(model, args.model_id, args.checkpoint)
        state = model.state_dict()
        log(f'loaded {args.checkpoint} with strict=True: {len(state)} tensors, '
            f'{sum(p.numel() for p in model.parameters()):,} parameters ({time.time() - started:.1f} s)')
        if args.load_only:
            return None, None
    os.makedirs(args.out, exist_ok=True)
    model.eval()
    family.prepare(model, args.model_id, args.tiny)
    spec = family.export_spec(model, args.model_id, args.tiny)

    reference = run_reference(spec, log)
    tmp_path = os.path.join(args.out, f'.{card_id}.{os.getpid()}.onnx')
    try:
        t0 = time.time()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)  # tracer notes on shape inference, not actionable
            torch.onnx.export(spec['module'], spec['inputs'], tmp_path, opset_version=OPSET,
                              input_names=spec['input_names'], output_names=spec['output_names'],
                              dynamic_axes=spec['dynamic_axes'], do_constant_folding=True)
        name_output_dims(tmp_path, reference[0][1], spec['dynamic_axes'])
        log(f'torch.onnx.export: {time.time() - t0:.1f} s')
        # Optional family hook: writes the files the model ships with (external weights, vocabularies, embeddings)
        # and may rewrite the ONNX (one external data file); returns their card entries.
        extra_files = (family.finish(model, args.model_id, args.tiny, tmp_path, args.out, card_id, args.checkpoint)
                       if hasattr(family, 'finish') else [])
        worst = check_onnx(tmp_path, spec, reference, log)
        sha = common.sha256_file(tmp_path)
        name = f'{card_id}.{sha[:16]}.onnx'
        onnx_path = os.path.join(args.out, name)
        os.replace(tmp_path, onnx_path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)

    card = family.card(args.model_id, args.tiny)
    card['files'] = [{'name': name, 'sha256': sha, 'bytes': os.path.getsize(onnx_path)}] + extra_files
    if args.checkpoint:
        card['source']['checkpoint'] = os.path.basename(args.checkpoint)
    card = {k: card[k] for k in CARD_ORDER if k in card} | {k: v for k, v in card.items() if k not in CARD_ORDER}
    card_path = os.path.join(args.out, f'{card_id}.card.json')
    with open(card_path, 'w', encoding='utf-8') as f:
        json.dump(card, f, indent=2, ensure_ascii=False)
        f.write('\n')

    if args.dump_reference:
        runs = [{'inputs': {k: common.tensor_json(v) for k, v in feeds.items()},
                 'outputs': {k: common.tensor_json(v) for k, v in outputs.items()}} for feeds, outputs in reference]
        with open(args.dump_reference, 'w', encoding='utf-8') as f:
            json.dump({'model': name, 'tolerance': spec['tolerance'], 'runs': runs}, f)

    log(f'wrote {onnx_path} ({card["files"][0]["bytes"]} bytes) and {card_path}; max diff {worst:.3g} '
        f'(bound {spec["tolerance"]:.3g}); {time.time() - started:.1f} s')
    return onnx_path, card_path


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        export(args)
    except common.ExportError as error:
        print(f'export failed: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
