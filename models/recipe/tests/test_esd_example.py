"""make-esd-example renders both Festival voices through the emotion profiles and writes
them in ESD's layout, with one UTF-16 transcript; import-dataset reads it back."""
import codecs
import json

from recipe_cli import emomix
LINES = ["The quick brown fox jumps over the lazy dog today.", "She sells sea shells by the sea shore every morning.",
         "A journey of a thousand miles begins with a single step.", "Every cloud has a silver lining, or so they say."]



def test_two_festival_voices_in_esd_layout_import_back(tmp_path):
    transcripts = tmp_path / "lines.txt"
    transcripts.write_text("\n".join(LINES) + "\n")
    root = tmp_path / "esd"
    log = emomix("make-esd-example", "--out", str(root), "--work", str(tmp_path / "render"), "--train", "2", "--eval", "1",
              "--transcripts", str(transcripts), "--jobs", "1")
    assert "speaker 0011 (slt): 7 clips, transcript in utf-16" in log and "speaker 0012 (kal): 7 clips" in log
    raw11, raw12 = (root / "0011" / "0011.txt").read_bytes(), (root / "0012" / "0012.txt").read_bytes()
    assert raw11.startswith(codecs.BOM_UTF16_LE) and not raw12.startswith(codecs.BOM_UTF16_LE)
    assert len(list((root / "0012").glob("*/evaluation/*.wav"))) == 5 and len(list((root / "0012").glob("*/train/*.wav"))) == 2
    assert raw11.decode("utf-16").splitlines()[0].split("\t")[0] == "0011_000001"
    corpus = tmp_path / "corpus"
    emomix("import-dataset", "--format", "esd", "--path", str(root), "--out", str(corpus))
    report = json.loads((corpus / "import-report.json").read_text())
    assert report["utterances"] == 14 and report["skipped"] == []
    assert report["encodings"] == {"0011": "utf-16", "0012": "utf-8"}
    assert report["splits"] == {"train": 4, "eval": 10}
