"""The scoring that `evaluate` applies to a voice's audio: WER, F0, monotonicity."""
import subprocess

import numpy as np
import pytest

from emomix.evaluation.evaluate import merged_evaluation, monotonic_toward, rounded
from emomix.evaluation.pitch import mean_f0, yin
from emomix.evaluation.wer import corpus_wer, sentence_errors, to_asr_wav, transcribe, word_errors
from emomix.audio import write_wav

SR = 22050


def test_word_errors_count_substitutions_deletions_insertions():
    assert word_errors("the cat sat".split(), "the cat sat".split()) == 0
    assert word_errors("the cat sat".split(), "the bat sat".split()) == 1
    assert word_errors("the cat sat".split(), "the sat".split()) == 1
    assert word_errors("the cat sat".split(), "oh the cat sat down".split()) == 2
    assert corpus_wer([("a b c d".split(), "a b".split()), ("e f".split(), "e f".split())]) == pytest.approx(100 * 2 / 6)
    with pytest.raises(ValueError):
        corpus_wer([([], ["x"])])


@pytest.mark.parametrize("f0", [110.0, 196.0, 330.0])
def test_yin_finds_the_fundamental_of_a_harmonic_tone(f0):
    t = np.arange(int(0.5 * SR)) / SR
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 5)).astype(np.float32)
    assert mean_f0(tone, SR) == pytest.approx(f0, rel=0.01)


def test_yin_calls_silence_and_noise_unvoiced():
    silence = np.zeros(SR // 2, dtype=np.float32)
    assert np.isnan(mean_f0(silence, SR))
    noise = np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32)
    assert np.mean(np.isfinite(yin(noise, SR))) < 0.2


def test_monotonic_toward_follows_the_direction_of_the_target():
    assert monotonic_toward([200, 210, 210, 230], 250)
    assert monotonic_toward([200, 190, 170], 150)
    assert not monotonic_toward([200, 215, 205, 230], 250)
    assert not monotonic_toward([200, 210], 150)
    assert not monotonic_toward([200, 200], 200)


def test_transcribe_recognises_the_teacher_voice(tmp_path):
    wav = tmp_path / "s.wav"
    subprocess.run(["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(wav)],
                   input="The weather is nice today.", text=True, check=True)
    hyp = transcribe(wav).split()
    assert word_errors("the weather is nice today".split(), hyp) <= 1


def test_unmeasurable_figures_become_null_not_nan():
    assert rounded(float("nan"), 2) is None
    assert rounded(np.float64(1.23456), 2) == 1.23


def test_a_run_of_some_parts_keeps_the_other_figures_and_merges_sets_by_name():
    previous = {"sentences": 50, "seed": 1234, "werTeacher": 21.07, "werBySteps": {"4": 22.4},
                "sets": {"short": {"teacher": 29.51}}}
    sets_only = {"sentences": 0, "seed": 1234, "sets": {"long": {"teacher": 21.0}}, "seconds": 9.0}
    merged = merged_evaluation(previous, sets_only, ["sets"])
    assert merged["sentences"] == 50 and merged["werBySteps"] == {"4": 22.4}
    assert merged["sets"] == {"short": {"teacher": 29.51}, "long": {"teacher": 21.0}}
    wer_only = {"sentences": 10, "seed": 1234, "werBySteps": {"4": 25.0}, "seconds": 3.0}
    merged = merged_evaluation(previous, wer_only, ["wer"])
    assert merged["sentences"] == 10 and merged["werBySteps"] == {"4": 25.0}
    assert merged["werTeacher"] == 21.07 and merged["sets"] == {"short": {"teacher": 29.51}}


def test_the_recogniser_gets_the_same_bytes_for_the_same_audio(tmp_path):
    """SoX dithers on the way to 16 bits; unseeded, two conversions of one file differ and
    pocketsphinx's transcript (and the WER) with them."""
    rng = np.random.default_rng(3)
    t = np.arange(22050 * 2) / 22050
    audio = (0.3 * np.sin(2 * np.pi * 180 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    wav = tmp_path / "in.wav"
    write_wav(wav, audio, 22050)
    first = to_asr_wav(wav, tmp_path / "a.wav").read_bytes()
    second = to_asr_wav(wav, tmp_path / "b.wav").read_bytes()
    assert len(first) > 44 and first == second


def test_sentence_errors_rank_the_sentences_that_make_the_gap_to_the_first_variant():
    refs = [["a", "b", "c"], ["d", "e"], ["f", "g", "h", "i"]]
    heard = {"teacher": [["a", "b", "c"], ["d"], ["f", "g", "h", "i"]],
             "server-4-7": [["a", "x", "c"], ["d"], ["f", "i"]],
             "server-4-8": [["a", "b", "c"], ["d", "e", "e"], ["f", "g", "x", "i"]]}
    rows = sentence_errors(refs, heard)
    assert [r["sentence"] for r in rows] == [2, 0, 1]
    assert rows[0] == {"sentence": 2, "errors": {"teacher": 0, "server-4-7": 2, "server-4-8": 1}, "excess": 2}
    assert rows[1]["excess"] == 1
    # The teacher missed a word the others got: no excess, never a negative one hiding another.
    assert rows[2] == {"sentence": 1, "errors": {"teacher": 1, "server-4-7": 1, "server-4-8": 1}, "excess": 0}
