"""Command-line entry points of the recipe: python3 -m emomix <command> --help."""
import argparse
import sys
from pathlib import Path


def cmd_make_corpus(a):
    from .corpus import make_corpus
    make_corpus(Path(a.out), a.train, a.eval, a.seed, a.jobs, Path(a.transcripts))


def main(argv=None):
    p = argparse.ArgumentParser(prog="emomix", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    from .corpus import DEFAULT_TRANSCRIPTS
    s = sub.add_parser("make-corpus", help="render the emotional teacher corpus with Festival")
    s.add_argument("--out", default="work/corpus")
    s.add_argument("--train", type=int, default=2600, help="training sentences")
    s.add_argument("--eval", type=int, default=50, help="held-out sentences (rendered in every emotion)")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--jobs", type=int, default=2)
    s.add_argument("--transcripts", default=str(DEFAULT_TRANSCRIPTS))
    s.set_defaults(fn=cmd_make_corpus)

    a = p.parse_args(argv)
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
