"""EmoMix recipe commands. Run from models/recipe with Debian's Python:
/usr/bin/python3 -m emomix <command> --help"""
import argparse
import importlib
import sys
from pathlib import Path


def cmd_make_corpus(a):
    from .data.corpus import make_corpus
    from .data.prepare import prepare_audio, prepare_text
    make_corpus(Path(a.out), a.train, a.eval, a.seed, a.jobs, Path(a.transcripts), weak=a.weak,
                blends=a.blends, short=a.short, agent=a.agent, voice=a.festival_voice)
    prepare_audio(Path(a.out))
    prepare_text(Path(a.out))


# command → (module, help); each module exposes add_arguments(parser) and run(args).
MODULES = {
    "make-esd-example": ("data.esd_example", "render a two-speaker corpus in ESD's layout with Festival (SLT and KAL) for the worked example"),
    "import-dataset": ("data.import_dataset", "import recorded emotional speech (ESD, or a folder with metadata.csv) as a corpus"),
    "train-ser": ("training.train_ser", "train the speech emotion recogniser and embed the corpus"),
    "train-acoustic": ("training.train_acoustic", "train the text encoder, duration predictor and score estimator"),
    "alignment-accuracy": ("evaluation.alignment_accuracy", "measure monotonic alignment search against a corpus's known timing"),
    "train-vocoder": ("training.train_vocoder", "train the Vocos-style vocoder"),
    "export": ("export.voice", "export a voice folder: ONNX graphs and voice.json"),
    "evaluate": ("evaluation.evaluate", "measure a voice: WER, emotion accuracy, mixing, prosody, speed"),
    "pack-checkpoints": ("training.pack_checkpoints", "pack training runs (float16 weights, no optimizer state) to commit and resume later"),
    "fixtures": ("export.fixtures", "write the tiny test voice and reference tensors for the runtime's parity tests"),
}


def main(argv=None):
    p = argparse.ArgumentParser(prog="emomix", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    from .data.corpus import DEFAULT_TRANSCRIPTS, FESTIVAL_VOICES
    s = sub.add_parser("make-corpus", help="render the emotional teacher corpus with Festival and prepare tensors")
    s.add_argument("--out", default="work/corpus")
    s.add_argument("--train", type=int, default=2600, help="training sentences")
    s.add_argument("--eval", type=int, default=50, help="held-out sentences (rendered in every emotion)")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--jobs", type=int, default=2)
    s.add_argument("--weak", type=int, default=0,
                   help="extra training utterances at low intensity (0.05-0.6), non-neutral emotions")
    s.add_argument("--blends", type=int, default=0,
                   help="extra training utterances in a blend of two non-neutral emotions")
    s.add_argument("--short", type=int, default=0,
                   help="extra training utterances of 3-10 words (transcript lines no other part uses)")
    s.add_argument("--agent", type=int, default=0,
                   help="extra training utterances from corpus/agent-lines.txt (prices, times, dates, phone phrasing)")
    s.add_argument("--transcripts", default=str(DEFAULT_TRANSCRIPTS))
    s.add_argument("--festival-voice", choices=sorted(FESTIVAL_VOICES), default="slt",
                   help="Festival voice to render with: slt (CMU ARCTIC SLT, HTS) or kal (Debian's festvox-kallpc16k diphones)")
    s.set_defaults(fn=cmd_make_corpus)

    # Only the chosen command's module is imported: the others may need files
    # (checkpoints, a built front end) that this command does not.
    chosen = next((x for x in (argv if argv is not None else sys.argv[1:]) if not x.startswith("-")), None)
    for name, (module, help_text) in MODULES.items():
        s = sub.add_parser(name, help=help_text)
        if name == chosen:
            mod = importlib.import_module(f".{module}", __package__)
            mod.add_arguments(s)
            s.set_defaults(fn=mod.run)

    a = p.parse_args(argv)
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
