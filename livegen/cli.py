"""The `livegen` command: one entry point, one verb per job.

Verbs that need the training extra (train, export) import export/ only when
they run, so the realtime verbs never load TensorFlow. A LivegenError becomes
one line on stderr and exit status 2; Ctrl-C exits with 130 and no traceback.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from datetime import datetime
from pathlib import Path

from livegen import __version__
from livegen.errors import LivegenError

DEFAULT_CORPUS = Path("../shared/data/nottingham/ABC_cleaned")
TRAINING_EXTRA_HINT = "pip install 'livegen[train]' (from a checkout: pip install -e '.[train]')"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "handler"):
        parser.print_help()
        return 2
    try:
        arguments.handler(arguments, argv)
    except LivegenError as error:
        print(f"livegen: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("livegen: interrupted", file=sys.stderr)
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livegen",
        description="A character-level LSTM that writes folk tunes in ABC notation and plays them as MIDI.",
    )
    parser.add_argument("--version", action="version", version=f"livegen {__version__}")
    verbs = parser.add_subparsers(title="verbs", metavar="VERB")
    _add_train(verbs)
    _add_export(verbs)
    _add_info(verbs)
    return parser


def _add_train(verbs) -> None:
    train = verbs.add_parser(
        "train",
        help="train a model on a folder of ABC files (needs the training extra)",
        description="Train the character model on every .abc file under --data. Shows a progress bar per "
        "epoch and the validation score (bits per character over whole held-out tunes) after each; keeps "
        "the best model; stops when validation stops improving; writes a loss curve at the end.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--data", type=Path, default=None,
                       help=f"folder of .abc files (default: {DEFAULT_CORPUS} when it exists)")
    train.add_argument("--out", type=Path, default=None,
                       help="run folder for checkpoints, history and loss curve (default: runs/<date-time>)")
    train.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    train.add_argument("--embedding", type=int, default=512, help="embedding size")
    train.add_argument("--units", type=int, default=256, help="LSTM units per layer")
    train.add_argument("--layers", type=int, default=3, help="number of LSTM layers")
    train.add_argument("--dropout", type=float, default=0.2, help="dropout after each LSTM layer")
    train.add_argument("--epochs", type=int, default=100, help="most epochs (early stopping usually ends sooner)")
    train.add_argument("--batch-size", type=int, default=64, help="sequences per batch")
    train.add_argument("--sequence-length", type=int, default=128, help="characters per training sequence")
    train.add_argument("--learning-rate", type=float, default=2e-3, help="Adam learning rate")
    train.add_argument("--patience", type=int, default=3, help="epochs without improvement before stopping")
    train.add_argument("--max-tunes", type=int, default=None, help="use only the first N tunes (quick trials)")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.set_defaults(handler=_run_train)


def _add_export(verbs) -> None:
    export = verbs.add_parser(
        "export",
        help="turn a trained Keras model into the ONNX step model (needs the training extra)",
        description="Write the one-character step model (token and LSTM state in, logits and state out) "
        "as ONNX, with the vocabulary and model card in its metadata, then check that it gives the Keras "
        "model's logits on held-out text.",
    )
    export.add_argument("model", type=Path, help="best.keras from a training run (training.json beside it)")
    export.add_argument("-o", "--output", type=Path, default=Path("model.onnx"), help="ONNX file to write")
    export.add_argument("--weights", choices=("float32", "int8"), default="float32",
                        help="int8: dynamically quantised weights, several times faster per step; written only "
                        "if it scores within 1%% of float32 on the validation tunes")
    export.set_defaults(handler=_run_export)


def _add_info(verbs) -> None:
    info = verbs.add_parser("info", help="show a model's card (the shipped model by default)")
    info.add_argument("--model", type=Path, default=None, help="ONNX model (default: the shipped model)")
    info.set_defaults(handler=_run_info)


def _training_modules():
    """Import export/ or say in one line how to get it."""
    try:
        import export.onnx_export
        import export.train
    except ImportError as missing:
        raise LivegenError(f"this needs the training extra ({missing.name} is missing): {TRAINING_EXTRA_HINT}") from None
    return export.train, export.onnx_export


def _run_train(arguments, argv) -> None:
    train_module, _ = _training_modules()
    data = arguments.data
    if data is None:
        if not DEFAULT_CORPUS.is_dir():
            raise LivegenError(f"no --data given and the default corpus {DEFAULT_CORPUS} is not here: "
                               "pass --data FOLDER_OF_ABC_FILES")
        data = DEFAULT_CORPUS
    elif not data.is_dir():
        raise LivegenError(f"--data {data} is not a folder")
    if arguments.resume and arguments.out is None:
        raise LivegenError("--resume needs --out naming the run folder to continue")
    out = arguments.out or Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    options = train_module.TrainingOptions(
        data=data, out=out, embedding=arguments.embedding, units=arguments.units, layers=arguments.layers,
        dropout=arguments.dropout, epochs=arguments.epochs, batch_size=arguments.batch_size,
        sequence_length=arguments.sequence_length, learning_rate=arguments.learning_rate,
        patience=arguments.patience, max_tunes=arguments.max_tunes, seed=arguments.seed,
        resume=arguments.resume, command="livegen " + shlex.join(argv),
    )
    train_module.train(options)


def _run_export(arguments, argv) -> None:
    _, onnx_export = _training_modules()
    onnx_export.export_model(arguments.model, arguments.output, arguments.weights)


def _run_info(arguments, argv) -> None:
    from livegen.model_file import load_model

    model = load_model(arguments.model)
    print(model.describe())


if __name__ == "__main__":
    sys.exit(main())
