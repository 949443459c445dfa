"""`python -m cifar_core.evaluate --checkpoint PATH [data options] --split {val,test} --json`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import torch

from cifar_core.checkpoint import CheckpointError, load_checkpoint
from cifar_core.config import TrainConfig
from cifar_core.data import DataSourceError, load_splits
from cifar_core.device import resolve_device
from cifar_core.fast import DeviceData, collect_logits
from cifar_core.metrics import EvalReport, report_from_logits
from cifar_core.models import build_model
from cifar_core.train import _add_data_arguments, data_options_from_args


def evaluate_checkpoint(checkpoint: str, options, split: str = "val", device_name: str = "auto") -> EvalReport:
    """Metrics of a saved model on the validation split (carved as in training) or the test split."""
    state = load_checkpoint(checkpoint)
    cfg = TrainConfig.from_dict(state["config"])
    splits = load_splits(options)
    data = splits.val if split == "val" else splits.test
    if data is None:
        raise DataSourceError(f"the data source has no {split} split (a test split needs DIR/test/<class>/*.png or cifar-10-batches-py)")
    device = resolve_device(device_name)
    model = build_model(cfg.model, len(state["classes"]))
    model.load_state_dict(state["state_dict"])
    model = model.to(device, memory_format=torch.channels_last)
    # Normalise with the statistics the model was trained with, not those of the evaluated split.
    mean = torch.tensor(state["mean"], device=device).view(1, 3, 1, 1)
    std = torch.tensor(state["std"], device=device).view(1, 3, 1, 1)
    device_data = DeviceData.from_arrays(data.images, data.labels, device)
    logits = collect_logits(model, device_data, mean, std)
    return report_from_logits(logits, device_data.labels, tuple(state["classes"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cifar_core.evaluate", description="Evaluate a checkpoint.")
    parser.add_argument("--checkpoint", required=True)
    _add_data_arguments(parser)
    parser.add_argument("--split", choices=["val", "test"], default="val")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        report = evaluate_checkpoint(args.checkpoint, data_options_from_args(args), args.split, args.device)
    except (CheckpointError, DataSourceError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(f"accuracy {report.accuracy:.4f}  ECE {report.ece:.4f}")
        for name, accuracy in report.per_class.items():
            print(f"  {name:12s} {accuracy:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
