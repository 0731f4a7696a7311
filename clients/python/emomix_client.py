#!/usr/bin/env python3
"""A small client of the EmoMix server (WebSocket protocol v1) that speaks text
and writes a WAV file while the audio arrives.

    python3 emomix_client.py --out hello.wav "Hello there!"
    my-llm | python3 emomix_client.py --emotion happy=0.8 --out reply.wav
    python3 emomix_client.py --markup --out news.wav "So glad you came, [emotion=sad]but I have bad news."

Without TEXT it streams stdin: each chunk read is sent at once, so speech
starts before the input is complete. The file holds the stream as sent, the
last phrase padded to a whole 20 ms frame. Phrases and a summary go to stderr.
With --markup, emotion tags in the text change the emotion where they stand
(docs/protocol.md, "Emotion markup"); each phrase line then also says where
each of its mixes starts.
Needs `websockets` and `msgpack` (Debian: python3-websockets python3-msgpack).
"""

import argparse
import asyncio
import codecs
import json
import os
import re
import sys
import time
import wave

# Where each third-party module comes from, for the message when one is missing.
PACKAGES = {"msgpack": "python3-msgpack", "websockets": "python3-websockets"}
try:
    import msgpack
    import websockets
except ImportError as error:
    missing = error.name or str(error)
    debian = PACKAGES.get(missing, f"python3-{missing}")
    sys.exit(f"emomix_client.py needs the Python module '{missing}': on Debian or Ubuntu `sudo apt install {debian}`, "
             f"elsewhere `pip install {missing}`")

SAMPLE_RATE = 48000
# A whole emotion tag: the server never speaks it, so it is never announced in a phrase.
TAG = re.compile(r"\[/?emotion(?:[\s=][^\]]*)?\]", re.IGNORECASE)


def parse_emotion(spec):
    """'happy=0.7,surprise=0.3' -> {'happy': 0.7, 'surprise': 0.3}; a bare name weighs 1."""
    weights = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        weights[name.strip()] = float(value) if value else 1.0
    return weights


def mix_text(weights):
    """{'happy': 0.7, 'sad': 0.3} -> 'happy=0.7,sad=0.3'"""
    return ",".join(f"{name}={round(w, 2):g}" for name, w in weights.items())


def connect(url, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    # websockets 14 renamed the header argument of its (new) client.
    major = int(websockets.__version__.split(".")[0])
    key = "additional_headers" if major >= 14 else "extra_headers"
    return websockets.connect(url, max_size=None, compression=None, **{key: headers})


async def text_chunks(args):
    """The text: the argument whole, or stdin chunk by chunk as it is written."""
    if args.text:
        yield " ".join(args.text)
        return
    loop = asyncio.get_running_loop()
    decoder = codecs.getincrementaldecoder("utf-8")()
    fd = sys.stdin.fileno()
    while True:
        data = await loop.run_in_executor(None, os.read, fd, 4096)
        text = decoder.decode(data, final=not data)
        if text:
            yield text
        if not data:
            return


class Window:
    """Keeps the text the server holds unspoken under half its limit
    (maxBufferedText), so a long input is never refused."""

    def __init__(self, limit, markup=False):
        self.limit = limit
        self.markup = markup
        self.pending = ""
        self.changed = asyncio.Event()

    async def room(self, size):
        while self.pending and len(self.pending) + size > self.limit // 2:
            self.changed.clear()
            await self.changed.wait()

    def sent(self, text):
        self.pending += text

    def spoken(self, phrase_text):
        """The phrase left the server's buffer, with the whitespace before it (and any tags)."""
        if self.markup:
            self.pending = TAG.sub("", self.pending)
        need = len(re.sub(r"\s+", "", phrase_text))
        i = 0
        while i < len(self.pending) and need > 0:
            if not self.pending[i].isspace():
                need -= 1
            i += 1
        self.pending = self.pending[i:]
        self.changed.set()


async def feed(ws, args, window, clock):
    step = max(1, window.limit // 4)
    async for chunk in text_chunks(args):
        for start in range(0, len(chunk), step):
            piece = chunk[start:start + step]
            await window.room(len(piece))
            clock.setdefault("first_text", time.monotonic())
            await ws.send(msgpack.packb({"type": "text", "text": piece}))
            window.sent(piece)
    await ws.send(msgpack.packb({"type": "end"}))


async def speak(args):
    start = {"type": "start", "format": "pcm16"}
    if args.emotion:
        start["emotion"] = parse_emotion(args.emotion)
    if args.markup:
        start["markup"] = True
    for field in ("voice", "speaker", "steps", "seed"):
        if getattr(args, field) is not None:
            start[field] = getattr(args, field)

    clock = {}
    audio_ms = 0.0
    phrases = 0
    failure = None
    stats = None
    out = None
    written = 0
    try:
        async with connect(args.url, args.token) as ws:
            await ws.send(msgpack.packb(start))
            feeder = None
            async for frame in ws:
                message = msgpack.unpackb(frame, raw=False)
                kind = message["type"]
                if kind == "ready":
                    # The file is created only once the server has taken the request.
                    out = wave.open(args.out, "wb")
                    out.setnchannels(1)
                    out.setsampwidth(2)
                    out.setframerate(SAMPLE_RATE)
                    window = Window(message["limits"]["maxBufferedText"], args.markup)
                    feeder = asyncio.create_task(feed(ws, args, window, clock))
                elif kind == "phrase":
                    window.spoken(message["text"])
                    phrases += 1
                    audio_ms = max(audio_ms, message["startMs"] + message["durationMs"])
                    mixes = ""
                    if args.markup:
                        mixes = "".join(f' · from word {s["word"]} {mix_text(s.get("ramp", {}).get("to", s["emotion"]))}'
                                        for s in message["segments"])
                    print(f'phrase {message["id"]} [{message["startMs"] / 1000:.3f} s +{message["durationMs"] / 1000:.3f} s] '
                          f'{json.dumps(message["text"], ensure_ascii=False)}{mixes}', file=sys.stderr)
                elif kind == "audio":
                    clock.setdefault("first_audio", time.monotonic())
                    for packet in message["packets"]:
                        out.writeframes(packet)
                        written += len(packet)
                elif kind == "error":
                    # Before `ready`, a refused start: the server waits for another, so give up.
                    fatal = message["fatal"] or feeder is None
                    print(f'{"error" if fatal else "warning"}: {message["code"]}: {message["message"]}', file=sys.stderr)
                    if fatal:
                        failure = message["code"]
                        break
                    if "text" in message and "phrase" in message:
                        window.spoken(message["text"])
                elif kind == "done":
                    stats = message["stats"]
            if feeder is not None:
                feeder.cancel()
    except (OSError, websockets.exceptions.WebSocketException) as error:
        # Refused connections, unreachable hosts, a bad URL and lost connections, said in one line.
        print(f"error: {args.url}: {error}", file=sys.stderr)
        failure = "connection"
    finally:
        if out is not None:
            out.close()
            # A file with no audio in it is no output: leave nothing behind.
            if failure and written == 0:
                os.remove(args.out)
    if out is None or (failure and written == 0):
        return 1

    wall = time.monotonic() - clock.get("first_text", time.monotonic())
    first = clock.get("first_audio")
    latency = f'{(first - clock["first_text"]) * 1000:.0f} ms' if first else "-"
    rtf = f"{wall * 1000 / audio_ms:.3f}" if audio_ms else "-"
    synthesis = f' · synthesis {stats["realTimeFactor"]:.3f}' if stats else ""
    print(f"first audio {latency} · {audio_ms / 1000:.2f} s of audio in {phrases} phrases · real-time factor {rtf}{synthesis} → {args.out}",
          file=sys.stderr)
    return 1 if failure or stats is None else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("text", nargs="*", help="text to speak (default: stream stdin)")
    parser.add_argument("--out", required=True, help="WAV file to write (16-bit, 48 kHz, mono)")
    parser.add_argument("--url", default=os.environ.get("EMOMIX_URL", "ws://127.0.0.1:8080/v1/stream"))
    parser.add_argument("--token", default=os.environ.get("EMOMIX_TOKEN"), help="bearer token (default: $EMOMIX_TOKEN)")
    parser.add_argument("--emotion", help="mix such as happy=0.7,surprise=0.3")
    parser.add_argument("--voice")
    parser.add_argument("--speaker", help="speaker of a voice with several (GET /v1/voices lists them)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--markup", action="store_true",
                        help="read emotion tags such as [emotion=sad ramp=400] in the text (docs/protocol.md)")
    return asyncio.run(speak(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
