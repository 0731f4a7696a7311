import random

from emomix.data.corpus import BLEND_PAIRS, BLEND_WEIGHT, WEAK_INTENSITY, plan, select_agent, select_short
from emomix.data.profiles import EMOTIONS, JITTER, NEUTRAL, PROFILES, draw, soft_label

TRAIN = [f"Training sentence number {i}." for i in range(40)]
HELD = [f"Held-out sentence number {i}." for i in range(3)]


def test_weak_utterances_come_after_an_unchanged_plan():
    base = plan(TRAIN, HELD, seed=1)
    more = plan(TRAIN, HELD, seed=1, weak=12)
    # The usual utterances keep their draws, so an existing corpus resumes, not re-renders.
    assert more[:len(base)] == base
    weak = more[len(base):]
    assert [w["id"] for w in weak] == [f"tw{i:05d}" for i in range(12)]
    assert all(w["split"] == "train" and w["text"] == TRAIN[i] for i, w in enumerate(weak))
    # Balanced over the four emotions that have a way from neutral to go.
    assert sorted(w["emotion"] for w in weak) == sorted(list(EMOTIONS[1:]) * 3)
    assert all(WEAK_INTENSITY[0] <= w["params"]["intensity"] < WEAK_INTENSITY[1] for w in weak)
    # Typical training utterances never fall in the weak range (train-ser's centroids rely on it).
    assert all(b["params"]["intensity"] >= WEAK_INTENSITY[1] for b in base if b["split"] == "train")


def test_weak_utterances_sit_between_neutral_and_their_emotion():
    weak = plan(TRAIN, HELD, seed=1, weak=40)[len(TRAIN) + 5 * len(HELD):]
    for w in weak:
        if w["emotion"] == "surprise":
            # The surprise profile raises pitch by 550 cents; a weak draw raises it less (jitter aside).
            assert w["params"]["pitch_cents"] < 550 * WEAK_INTENSITY[1] + 150


def test_blends_come_after_the_weak_utterances_and_cover_every_pair():
    base = plan(TRAIN, HELD, seed=1, weak=12)
    more = plan(TRAIN, HELD, seed=1, weak=12, blends=18)
    assert more[:len(base)] == base
    blends = more[len(base):]
    assert [b["id"] for b in blends] == [f"tb{i:05d}" for i in range(18)]
    # The last training sentences, so that they are not the ones the weak utterances repeat.
    assert [b["text"] for b in blends] == TRAIN[-18:]
    pairs = [tuple(b["params"]["mix"]) for b in blends]
    assert sorted(set(pairs)) == sorted(BLEND_PAIRS) and len(BLEND_PAIRS) == 6
    assert all(pairs.count(p) == 3 for p in BLEND_PAIRS)
    # More blends than training sentences: each sentence once, not a wrapped-around slice.
    capped = plan(TRAIN, HELD, seed=1, blends=len(TRAIN) + 10)[len(TRAIN) + 5 * len(HELD):]
    assert [b["text"] for b in capped] == TRAIN
    for b in blends:
        (x, wx), (y, wy) = b["params"]["mix"].items()
        assert BLEND_WEIGHT[0] <= wx <= BLEND_WEIGHT[1] and abs(wx + wy - 1) < 1e-12
        assert NEUTRAL not in (x, y) and b["emotion"] == (x if wx >= wy else y)


def test_a_blend_is_drawn_between_its_two_emotions():
    rng = random.Random(3)
    # Without jitter in the way, the mean of many draws sits at the weighted profile.
    draws = [draw({"happy": 0.5, "sad": 0.5}, rng, intensity=1.0) for _ in range(2000)]
    for field in ("pitch_cents", "bright_db", "chest_db"):
        mean = sum(d[field] for d in draws) / len(draws)
        expected = 0.5 * getattr(PROFILES["happy"], field) + 0.5 * getattr(PROFILES["sad"], field)
        assert abs(mean - expected) < 3 * getattr(JITTER, field) / len(draws) ** 0.5 + 1e-9


def test_happy_sad_and_angry_each_have_a_timbre_cue_no_other_emotion_moves():
    neutral = PROFILES[NEUTRAL]
    for field in ("bright_db", "chest_db", "press_db"):
        moved = [e for e, p in PROFILES.items() if getattr(p, field) != getattr(neutral, field)]
        assert len(moved) == 1, (field, moved)
    assert {e for f in ("bright_db", "chest_db", "press_db") for e, p in PROFILES.items()
            if getattr(p, f) != getattr(neutral, f)} == {"happy", "sad", "angry"}


def test_soft_labels_share_between_the_mix_and_neutral_by_intensity():
    assert soft_label({"intensity": 1.1, "mix": {"sad": 1.0}}) == [0.0, 0.0, 1.0, 0.0, 0.0]
    assert soft_label({"intensity": 1.0, "mix": {NEUTRAL: 1.0}}) == [1.0, 0.0, 0.0, 0.0, 0.0]
    weak = soft_label({"intensity": 0.25, "mix": {"surprise": 1.0}})
    assert weak == [0.75, 0.0, 0.0, 0.0, 0.25]
    blend = soft_label({"intensity": 0.8, "mix": {"happy": 0.25, "angry": 0.75}})
    assert [round(v, 6) for v in blend] == [0.2, 0.2, 0.0, 0.6, 0.0]
    for label in (weak, blend):
        assert abs(sum(label) - 1.0) < 1e-9


def test_short_utterances_are_unused_lines_of_three_to_ten_words_after_an_unchanged_plan():
    lines = TRAIN + HELD + ["Too short.", "one two three", "A line of exactly ten words to keep in here.",
                            "This line has far too many words to be taken as a short utterance."]
    short = select_short(lines, set(TRAIN) | set(HELD), 10, seed=1)
    assert sorted(short) == ["A line of exactly ten words to keep in here.", "one two three"]
    base = plan(TRAIN, HELD, seed=1, weak=4, blends=5)
    more = plan(TRAIN, HELD, seed=1, weak=4, blends=5, short=short)
    assert more[:len(base)] == base
    assert [(u["id"], u["text"], u["emotion"]) for u in more[len(base):]] == [
        ("ts00000", short[0], EMOTIONS[0]), ("ts00001", short[1], EMOTIONS[1])]


def test_agent_lines_come_last_after_an_unchanged_plan_and_never_reuse_held_out_wording():
    offered = ["Your total comes to nine dollars.",
               "Hello, please hold while I transfer your call now.",  # four words of a held-out line
               "The ferry departs at half past two.", "Press three to repeat this menu."]
    agent = select_agent(offered, 2)
    assert agent == ["Your total comes to nine dollars.", "The ferry departs at half past two."]
    base = plan(TRAIN, HELD, seed=1, weak=4, blends=5, short=["one two three"])
    more = plan(TRAIN, HELD, seed=1, weak=4, blends=5, short=["one two three"], agent=agent)
    assert more[:len(base)] == base
    assert [(u["id"], u["text"], u["emotion"], u["split"]) for u in more[len(base):]] == [
        ("ta00000", agent[0], EMOTIONS[0], "train"), ("ta00001", agent[1], EMOTIONS[1], "train")]
