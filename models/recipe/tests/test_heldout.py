"""The written held-out sets: their shape, and that no training plan can contain them."""
from emomix.data.corpus import (AGENT_LINES, CONVERSATIONAL, WRITTEN_HELDOUT, read_lines, select_sentences,
                                heldout_word_runs, word_runs)


def words(line: str) -> int:
    return len(line.split())


def test_the_short_set_has_at_least_100_sentences_of_5_to_9_words():
    short = read_lines(WRITTEN_HELDOUT["short"])
    assert len(short) >= 100 and len(set(short)) == len(short)
    assert all(5 <= words(s) <= 9 for s in short)


def test_the_conversational_set_has_at_least_50_lines_with_numbers_questions_and_exclamations():
    conv = read_lines(WRITTEN_HELDOUT["conversational"])
    assert len(conv) >= 50 and len(set(conv)) == len(conv)
    assert sum(s.endswith("?") for s in conv) >= 10 and sum(s.endswith("!") for s in conv) >= 5
    spoken_numbers = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve",
                      "fifteen", "twenty", "forty", "hundred")
    assert sum(any(n in s.lower().split() or n in s.lower() for n in spoken_numbers) for s in conv) >= 15


def test_written_sets_never_enter_a_training_plan():
    written = {s for p in WRITTEN_HELDOUT.values() for s in read_lines(p)}
    assert not written & set(read_lines(CONVERSATIONAL))
    # Even when offered as transcripts and conversational lines, they are left out of both splits.
    offered = sorted(written) + [f"Filler sentence number {i} for the plan." for i in range(40)]
    chat = sorted(written) + [f"Line {i}, thanks!" for i in range(5)]
    train, held = select_sentences(offered, chat, n_train=30, n_eval=5, seed=1)
    assert not written & (set(train) | set(held))
    assert len(train) == 30 and len(held) == 5


def test_the_agent_lines_are_many_distinct_and_never_repeat_held_out_wording():
    agent = read_lines(AGENT_LINES)
    assert len(agent) >= 500 and len(set(agent)) == len(agent)
    written = {s for p in WRITTEN_HELDOUT.values() for s in read_lines(p)}
    assert not written & set(agent)
    held = heldout_word_runs()
    assert not [s for s in agent if word_runs(s) & held]
    assert sum(any(w in s for w in ("dollar", "cents", "past", "o'clock")) for s in agent) >= 150
