"""The `livegen` command: one entry point, one verb per job.

Verbs that need the training extra (train, export) import export/ only when
they run, so the realtime verbs never load TensorFlow. A LivegenError becomes
one line on stderr and exit status 2; Ctrl-C exits with 130 and no traceback.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import textwrap
from datetime import datetime
from pathlib import Path

from livegen import __version__
from livegen.cli.help_format import RawDescriptionDefaultsHelpFormatter
from livegen.cli.validation import (
    OneLineParser,
    cc_map,
    check_meter_for_midi,
    existing_file,
    fraction_below_one,
    host_and_port,
    midi_value,
    output_file,
    output_folder,
    parameter_value,
    port_number,
    positive_float,
    positive_int,
    tempo_bpm,
    velocity,
)
from livegen.compose.composer import MAX_LENGTH, TUNE_TYPES, TunePlan
from livegen.compose.sampler import SamplingSettings
from livegen.control.parameters import (
    DEFAULT_CC_MAP,
    FEEDBACK_HERE,
    PARAMETERS,
    TUNE_BAR,
    TUNE_NOTE,
    TUNE_TITLE,
    Parameter,
)
from livegen.control.presets import load_preset, preset_names
from livegen.errors import LivegenError
from livegen.model.model_file import load_model
from livegen.model.sizes import SHIPPED_SIZES
from livegen.offline.default_corpus import DEFAULT_CORPUS, reference_corpus, training_corpus
from livegen.offline.evaluate import compare_with_corpus, read_abc_texts
from livegen.offline.generate import STREAMS, SamplingRequest, sample_tunes
from livegen.offline.tune_files import render_abc_file, write_generated
from livegen.perform.arrangement import ArrangementSettings
from livegen.perform.piano_roll import require_matplotlib
from livegen.realtime.clock import CLOCK_CHOICES
from livegen.realtime.link_clock import describe_session, load_link
from livegen.realtime.midi_port import BACKEND_CHOICES, format_ports, list_ports
from livegen.realtime.recorder import default_sessions_folder
from livegen.session.daemon import DaemonOptions, OscOptions, run_daemon
from livegen.session.options import DEFAULT_CONTROL_PORT
from livegen.session.status_line import LineAwareHandler, StatusLine

TRAINING_EXTRA_HINT = "pip install 'livegen[train]' (from a checkout: pip install -e '.[train]')"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(format="livegen: %(message)s")  # warnings (e.g. what a MIDI file can't hold) as one line
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
    parser = OneLineParser(
        prog="livegen",
        description="A character-level LSTM that writes folk tunes in ABC notation and plays them as MIDI.",
    )
    parser.add_argument("--version", action="version", version=f"livegen {__version__}")
    verbs = parser.add_subparsers(title="verbs", metavar="VERB")
    _add_run(verbs)
    _add_ports(verbs)
    _add_link(verbs)
    _add_generate(verbs)
    _add_render(verbs)
    _add_eval(verbs)
    _add_train(verbs)
    _add_export(verbs)
    _add_info(verbs)
    return parser


def _add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by everything that samples tunes from a model."""
    group = parser.add_argument_group("sampling")
    group.add_argument("--model", type=Path, default=None, help="ONNX model (default: the shipped model)")
    for name in ("temperature", "top_p", "seed", "form"):
        _add_parameter_option(group, PARAMETERS[name], live=False)
    group.add_argument("--no-constraints", dest="constrained", action="store_false",
                       help="let the model write invalid ABC and bars of any length")
    group.add_argument("--max-length", type=positive_int, default=MAX_LENGTH,
                       help="characters per tune before it is ended")
    group.add_argument("--meter", help="metre of every tune, as in ABC: 6/8, 4/4, 3/4, C ...")
    group.add_argument("--key", help="key and mode as in ABC: G, Em, Ador, Dmix, Bb ...")
    group.add_argument("--unit-length", help="ABC unit note length, e.g. 1/8 (default: from the metre)")
    group.add_argument("--type", dest="tune_type", choices=sorted(TUNE_TYPES),
                       help="tune type: sets the metre unless --meter is given")
    group.add_argument("--prime", help="your own ABC opening instead of a built header (\\n for new lines)")
    group.add_argument("--streams", type=positive_int, default=STREAMS,
                       help="tunes written at once (a batch for the engine)")
    group.add_argument("--threads", type=positive_int, default=1, help="onnxruntime threads")


def _add_run(verbs) -> None:
    run = verbs.add_parser(
        "run",
        help="the live instrument: generate tunes and play them into a MIDI port",
        description=textwrap.fill(  # filled here: the epilog's layout must be kept, so argparse won't fill this
            "Write tune after tune and play each as it is written into a MIDI port your DAW reads: "
            "melody on one channel, chord symbols as held chords (with a bass note) on another, repeats as "
            "written. Steer it while it plays over OSC and MIDI CC (see the end of this help). Ctrl-C (or "
            "SIGTERM) stops cleanly, with no note left sounding. Everything played is recorded: the ABC of each "
            "tune and a MIDI file of what was sent.", 79),
        epilog=_live_control_help(), formatter_class=RawDescriptionDefaultsHelpFormatter,
    )
    midi = run.add_argument_group("MIDI")
    midi.add_argument("--port", default=DaemonOptions.port,
                      help="output port: an existing port of this name (loopMIDI, IAC bus), else a new virtual "
                      "one")
    midi.add_argument("--backend", choices=BACKEND_CHOICES, default=DaemonOptions.backend,
                      help="MIDI system; auto: CoreMIDI on macOS, ALSA on Linux (JACK when ALSA is "
                      "missing)")
    midi.add_argument("--clock", choices=CLOCK_CHOICES, default=DaemonOptions.clock,
                      help="internal: play at --tempo; midi: follow the DAW's MIDI clock (tempo, start, stop, "
                      "continue, song position) on --clock-port; link: join the Ableton Link session on the "
                      "network, its tempo and bars (pip install 'livegen[link]')")
    midi.add_argument("--link-start-stop", action="store_true",
                      help="with --clock link: the session's transport (Live's play and stop) starts and stops livegen")
    midi.add_argument("--clock-port", default=DaemonOptions.clock_port,
                      help="input port the DAW sends its MIDI clock to")
    midi.add_argument("--control-port", default=DEFAULT_CONTROL_PORT,
                      help="input port for MIDI control changes (the same name as --clock-port shares one "
                      "port)")
    midi.add_argument("--cc", type=cc_map, default=None, metavar="NAME=CC[,NAME=CC...]",
                      help="your own controller map instead of the default one (listed below), e.g. "
                      "temperature=74,tempo=71")
    midi.add_argument("--no-cc", dest="control", action="store_false", help="no control port")
    midi.add_argument("--lookahead", type=positive_float, default=DaemonOptions.lookahead_beats,
                      help="beats of music generated ahead of what is heard")
    osc = run.add_argument_group("OSC")
    osc.add_argument("--osc-host", default=OscOptions.host, help="address to listen on; another than this "
                     "computer's own needs --osc-allow")
    osc.add_argument("--osc-port", type=port_number, default=OscOptions.port,
                     help="UDP port to listen on (0: any free port)")
    osc.add_argument("--osc-allow", type=lambda text: tuple(text.replace(",", " ").split()), default=(),
                     metavar="ADDRESS[,ADDRESS...]", help="controllers (IP addresses) accepted from other computers")
    osc.add_argument("--feedback", type=host_and_port, action="append", default=[], metavar="HOST:PORT",
                     help="send every change, the tune's title, bar and last note here (repeatable)")
    osc.add_argument("--no-osc", dest="osc", action="store_false", help="no OSC at all")
    live = run.add_argument_group(
        "live parameters", "Each can also be changed while playing (see below). Values given here override "
        "the preset's.")
    live.add_argument("--preset", help=f"a style preset by name ({', '.join(preset_names())}) or a .toml file")
    for parameter in PARAMETERS.values():
        if parameter.holds_value and parameter.name != "play":
            _add_parameter_option(live, parameter, live=True)
    playing = run.add_argument_group("playing")
    playing.add_argument("--no-bass", dest="bass", action="store_false", help="chords without a bass note")
    playing.add_argument("--chord-velocity", type=velocity, default=ArrangementSettings.chord_velocity,
                         help="chord velocity (1-127)")
    playing.add_argument("--accent", type=midi_value, default=ArrangementSettings.accent,
                         help="velocity added on the first beat of a bar (half of it on the other strong beats)")
    playing.add_argument("--lowest", type=midi_value, default=ArrangementSettings.lowest,
                         help="lowest melody note (MIDI number); "
                         "notes below move up by octaves")
    playing.add_argument("--highest", type=midi_value, default=ArrangementSettings.highest,
                         help="highest melody note (MIDI number)")
    tunes = run.add_argument_group("tunes")
    tunes.add_argument("--model", type=Path, default=None, help="ONNX model (default: the shipped model)")
    tunes.add_argument("--max-length", type=positive_int, default=MAX_LENGTH,
                       help="characters per tune: past 80%% of this a tune ends at the next full bar")
    tunes.add_argument("--tunes", type=positive_int, default=None,
                       help="stop after this many tunes (default: play until stopped)")
    session = run.add_argument_group("session")
    session.add_argument("--record", type=Path, default=None, metavar="DIR",
                         help="each session goes to a new date-time folder in DIR "
                         f"(default: {default_sessions_folder()})")
    session.add_argument("--quiet", action="store_true", help="no status line (logs still go to stderr)")
    run.set_defaults(handler=_run_run)


def _add_parameter_option(group, parameter: Parameter, live: bool) -> None:
    """An option for a parameter of the live table; for `run`, its help also says how to change it live."""
    where = ""  # offline verbs format their defaults themselves (ArgumentDefaultsHelpFormatter)
    if live:
        default = parameter.text(parameter.default) if parameter.kind != "number" else f"{parameter.default:g}"
        cc = f", CC {parameter.cc}" if parameter.cc is not None else ""
        where = f"; default {default}; {parameter.takes_effect}; OSC {parameter.address}{cc}"
    group.add_argument(parameter.option, dest=parameter.name, type=parameter_value(parameter),
                       default=None if live else parameter.default,
                       metavar=parameter.name.upper(),
                       help=f"{parameter.help} ({parameter.describe_range()}{where})")


def _live_control_help() -> str:
    def paragraph(text: str) -> str:
        return textwrap.fill(text, 79, initial_indent="  ", subsequent_indent="  ")

    def entry(address: str, text: str) -> str:
        return textwrap.fill(text, 79, initial_indent=f"  {address:23}", subsequent_indent=" " * 25)

    buttons = [(parameter.address, parameter.help) for parameter in PARAMETERS.values()
               if parameter.kind in ("toggle", "trigger")]
    cc_map = ", ".join(f"{number} {name}" for number, name in sorted(DEFAULT_CC_MAP.items()))
    return "\n".join([
        "live control:",
        paragraph("Every live parameter above listens on OSC at /livegen/NAME (its value; a choice by name or "
                  "index) and /livegen/NAME/norm (0..1, what TouchOSC faders send). Out-of-range values are "
                  "clamped."),
        *(entry(address, text) for address, text in buttons),
        entry(FEEDBACK_HERE, "send feedback to the address this message came from"),
        paragraph(f"Feedback (to --feedback and {FEEDBACK_HERE}): /livegen/NAME, /livegen/NAME/norm, "
                  f"/livegen/NAME/text, {TUNE_TITLE}, {TUNE_BAR}, {TUNE_NOTE}."),
        paragraph(f"MIDI CC on --control-port (0-127 spans each range; 64 and up presses a button). Default map: "
                  f"{cc_map}."),
        paragraph("A TouchOSC layout for all of this: presets/livegen.tosc."),
    ])


def _add_ports(verbs) -> None:
    ports = verbs.add_parser("ports", help="list MIDI ports per backend",
                             description="List the MIDI ports of every MIDI system on this machine, or why one "
                             "is not available.")
    ports.set_defaults(handler=_run_ports)


def _add_link(verbs) -> None:
    link = verbs.add_parser("link", help="show the Ableton Link session: peers, tempo, transport",
                            description="Join the Ableton Link session on the network for a moment and say how "
                            "many peers it has (Link gives them no names), its tempo and its transport. Needs "
                            "the link extra: pip install 'livegen[link]'.")
    link.set_defaults(handler=_run_link)


def _add_generate(verbs) -> None:
    generate = verbs.add_parser(
        "generate",
        help="write N tunes to .abc and .mid files, offline",
        description="Sample tunes from the model and write them all to one .abc file, plus one .mid per tune "
        "(melody on channel 1, chord symbols as held chords on channel 2).",
    )
    generate.add_argument("-n", "--count", type=positive_int, default=10, help="number of tunes")
    generate.add_argument("-o", "--out", type=output_folder, default=Path("generated"), help="output folder")
    generate.add_argument("--tempo", type=tempo_bpm, default=None,
                          help="quarter notes per minute for the .mid files (default: the tune's Q: or 120)")
    generate.add_argument("--plot", action="store_true", help="also write a piano-roll PNG per tune")
    _add_sampling_options(generate)
    generate.set_defaults(handler=_run_generate)


def _add_render(verbs) -> None:
    render = verbs.add_parser(
        "render",
        help="turn existing ABC into .mid files, as the live player would play it",
        description="Render every tune of an ABC file to MIDI with the live player's parser, repeat "
        "expansion and chord voicing.",
    )
    render.add_argument("abc", type=Path, help="an .abc file")
    render.add_argument("-o", "--out", type=output_folder, default=Path("rendered"), help="output folder")
    render.add_argument("--tempo", type=tempo_bpm, default=None,
                        help="quarter notes per minute (default: each tune's Q: or 120)")
    render.set_defaults(handler=_run_render)


def _add_eval(verbs) -> None:
    evaluate = verbs.add_parser(
        "eval",
        help="musical and statistical report on a model or a folder of ABC",
        description="Judge tunes as the reference player and a musician would, beside the corpus read the same "
        "way: abc2midi's errors and bar-length warnings, regular strains, endings on the tonic, length, notes in "
        "key, chord fit, and the longest run of bars copied from the corpus. Give a folder or file of ABC, or "
        "sample -n tunes from a model.",
    )
    evaluate.add_argument("abc", type=Path, nargs="?", help="a folder or file of ABC (omit to sample a model)")
    evaluate.add_argument("-n", "--count", type=positive_int, default=200, help="tunes to sample from the model")
    evaluate.add_argument("--reference", type=Path, default=None,
                          help=f"the corpus shown beside the tunes and checked for copying (default: {DEFAULT_CORPUS} "
                          "when it exists)")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_sampling_options(evaluate)
    evaluate.set_defaults(handler=_run_eval)


def _add_train(verbs) -> None:
    train = verbs.add_parser(
        "train",
        help="train a model on a folder of ABC files (needs the training extra)",
        description="Train the character model on every .abc file under --data. Shows a progress bar per "
        "epoch and the validation score (bits per character over whole held-out tunes) after each; keeps "
        "the best model; stops when validation stops improving; writes a loss curve at the end.",
    )
    train.add_argument("--data", type=Path, default=None,
                       help=f"folder of .abc files (default: {DEFAULT_CORPUS} when it exists)")
    train.add_argument("--out", type=output_folder, default=None,
                       help="run folder for checkpoints, history and loss curve (default: runs/<date-time>)")
    train.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    train.add_argument("--embedding", type=positive_int, default=SHIPPED_SIZES.embedding, help="embedding size")
    train.add_argument("--units", type=positive_int, default=SHIPPED_SIZES.units, help="LSTM units per layer")
    train.add_argument("--layers", type=positive_int, default=SHIPPED_SIZES.layers, help="number of LSTM layers")
    train.add_argument("--dropout", type=fraction_below_one, default=SHIPPED_SIZES.dropout,
                       help="dropout after each LSTM layer")
    train.add_argument("--epochs", type=positive_int, default=100,
                       help="most epochs (early stopping usually ends sooner)")
    train.add_argument("--batch-size", type=positive_int, default=64,
                       help="sequences per step: the global batch, shared out among all replicas and workers")
    train.add_argument("--sequence-length", type=positive_int, default=128,
                       help="characters per training sequence")
    train.add_argument("--learning-rate", type=positive_float, default=2e-3,
                       help="Adam learning rate; it belongs with the global batch, so keep it when you add devices "
                       "at the same --batch-size (docs/DISTRIBUTED.md: raising both)")
    train.add_argument("--learning-rate-schedule", choices=("constant", "plateau"), default="plateau",
                       help="plateau: halve the learning rate after every epoch that does not improve validation")
    train.add_argument("--patience", type=positive_int, default=3,
                       help="epochs without improvement before stopping")
    train.add_argument("--transpose-to", default="auto", metavar="KEYS",
                       help="offer each training tune in other keys too: auto (the keys the corpus writes each "
                       "mode in), none, or tonics such as G,D,A; validation tunes are never transposed")
    train.add_argument("--max-tunes", type=positive_int, default=None,
                       help="use only the first N tunes (quick trials)")
    train.add_argument("--seed", type=int, default=0, help="random seed")
    distributed = train.add_argument_group("devices and machines (docs/DISTRIBUTED.md)")
    distributed.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default",
                             help="default: one device; mirrored: every GPU here (or --devices logical CPU "
                             "devices); multiworker: the cluster of machines in TF_CONFIG, one process each")
    distributed.add_argument("--devices", type=positive_int, default=None,
                             help="with mirrored: the first N GPUs, or N logical CPU devices on a machine without "
                             "GPUs (for trying it out: they share the same cores)")
    distributed.add_argument("--mixed-precision", action="store_true",
                             help="compute in float16 with float32 weights (GPUs only; refused without one)")
    train.set_defaults(handler=_run_train)


def _add_export(verbs) -> None:
    export = verbs.add_parser(
        "export",
        help="turn a trained Keras model into the ONNX step model (needs the training extra)",
        description="Write the one-character step model (token and LSTM state in, logits and state out) "
        "as ONNX, with the vocabulary and model card in its metadata, then check that it gives the Keras "
        "model's logits on held-out text.",
    )
    export.add_argument("model", type=existing_file, help="best.keras from a training run (training.json beside it)")
    export.add_argument("-o", "--output", type=output_file, default=Path("model.onnx"), help="ONNX file to write")
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
        import livegen.export.onnx_export
        import livegen.export.train
    except ImportError as missing:
        raise LivegenError(f"this needs the training extra ({missing.name} is missing): "
                           f"{TRAINING_EXTRA_HINT}") from None
    return livegen.export.train, livegen.export.onnx_export


def _run_run(arguments, argv) -> None:
    if arguments.link_start_stop and arguments.clock != "link":
        raise LivegenError("--link-start-stop goes with --clock link")
    if arguments.clock == "link":
        load_link()  # before anything else starts: one line naming the install command
    status_line = StatusLine(enabled=not arguments.quiet)
    handler = LineAwareHandler(status_line)
    handler.setFormatter(logging.Formatter("livegen: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    values = load_preset(arguments.preset).values if arguments.preset else {}
    values |= {name: getattr(arguments, name) for name in PARAMETERS if getattr(arguments, name, None) is not None}
    osc = OscOptions(arguments.osc_host, arguments.osc_port, arguments.osc_allow,
                     tuple(arguments.feedback)) if arguments.osc else None
    options = DaemonOptions(
        port=arguments.port, backend=arguments.backend, clock=arguments.clock,
        link_start_stop=arguments.link_start_stop,
        clock_port=arguments.clock_port, model=arguments.model, parameters=values,
        max_length=arguments.max_length, lookahead_beats=arguments.lookahead,
        arrangement=ArrangementSettings(bass=arguments.bass, chord_velocity=arguments.chord_velocity,
                                        accent=arguments.accent, lowest=arguments.lowest, highest=arguments.highest),
        record=arguments.record, tunes=arguments.tunes,
        control_port=arguments.control_port if arguments.control else None,
        cc_map=arguments.cc or dict(DEFAULT_CC_MAP), osc=osc,
    )
    status = run_daemon(options, status_line)
    if status:
        sys.exit(status)


def _run_ports(arguments, argv) -> None:
    print(format_ports(list_ports()))


def _run_link(arguments, argv) -> None:
    print(describe_session())


def _run_train(arguments, argv) -> None:
    data = training_corpus(arguments.data)
    if arguments.resume and arguments.out is None:
        raise LivegenError("--resume needs --out naming the run folder to continue")
    out = arguments.out or Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")
    from livegen.export.run_folder import check_run_folder  # before TensorFlow loads, which takes seconds

    check_run_folder(out, arguments.resume)
    train_module, _ = _training_modules()
    options = train_module.TrainingOptions(
        data=data, out=out, embedding=arguments.embedding, units=arguments.units, layers=arguments.layers,
        dropout=arguments.dropout, epochs=arguments.epochs, batch_size=arguments.batch_size,
        sequence_length=arguments.sequence_length, learning_rate=arguments.learning_rate,
        patience=arguments.patience, max_tunes=arguments.max_tunes, seed=arguments.seed,
        transpose_to=arguments.transpose_to, learning_rate_schedule=arguments.learning_rate_schedule,
        resume=arguments.resume, strategy=arguments.strategy, devices=arguments.devices,
        mixed_precision=arguments.mixed_precision, command="livegen " + shlex.join(argv),
    )
    train_module.train(options)


def _run_export(arguments, argv) -> None:
    _, onnx_export = _training_modules()
    onnx_export.export_model(arguments.model, arguments.output, arguments.weights)


def _sampling_request(arguments) -> SamplingRequest:
    """The shared sampling options as one request."""
    prime = arguments.prime.replace("\\n", "\n") if arguments.prime is not None else None
    plan = TunePlan(arguments.meter, arguments.key, arguments.unit_length, arguments.tune_type, prime,
                    form=arguments.form)
    return SamplingRequest(plan, SamplingSettings(arguments.temperature, arguments.top_p), arguments.seed,
                           arguments.constrained, arguments.max_length, arguments.streams, arguments.model,
                           arguments.threads)


def _run_generate(arguments, argv) -> None:
    check_meter_for_midi(arguments.meter)
    if arguments.plot:
        require_matplotlib()
    tunes = sample_tunes(_sampling_request(arguments), arguments.count)
    for line in write_generated(tunes, arguments.out, arguments.tempo, arguments.plot):
        print(line)


def _run_render(arguments, argv) -> None:
    for line in render_abc_file(arguments.abc, arguments.out, arguments.tempo):
        print(line)


def _run_eval(arguments, argv) -> None:
    corpus = reference_corpus(arguments.reference)
    corpus_texts = read_abc_texts(corpus) if corpus is not None else None  # a wrong path is said before composing
    texts = (read_abc_texts(arguments.abc) if arguments.abc is not None
             else ["".join(tune.text) for tune in sample_tunes(_sampling_request(arguments), arguments.count)])
    comparison = compare_with_corpus(texts, corpus_texts)
    print(comparison.as_json() if arguments.json else comparison.table())


def _run_info(arguments, argv) -> None:
    model = load_model(arguments.model)
    print(model.describe())


if __name__ == "__main__":
    sys.exit(main())
