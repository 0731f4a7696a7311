// LiveKit's expressive markup, read out of the LLM's text as it streams. The
// LLM writes `<expr type="expression" label="excited"/>` before a sentence
// (what `tts.markup.llmInstructions()` teaches it); after LiveKit's own
// conversion the same marker reads `<emotion value="excited"/>`. Expressions
// become emotion changes; every other marker is dropped with its words kept,
// except spelling, whose characters are spoken one by one.

export type MarkupPiece = { kind: 'text'; text: string } | { kind: 'expression'; label: string };

// Markup tag names this reader consumes; any other `<...>` is ordinary text.
const MARKUP = /^<\/?\s*(expr|emotion|expression|break|sound|speed|volume|spell|emphasis)\b/i;
const ATTRIBUTE = /([\w-]+)\s*=\s*"([^"]*)"/g;
// A `<` this far from its `>` is not a tag: let it through rather than hold the stream.
const MAX_TAG_CHARS = 256;

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [, name, value] of tag.matchAll(ATTRIBUTE)) out[name!.toLowerCase()] = value!;
  return out;
}

/** `A7X9` → `A 7 X 9`: each character its own word. */
const spellOut = (text: string): string => [...text.replace(/\s+/g, '')].join(' ');

export class MarkupReader {
  private held = '';
  // Inside `<expr type="spell">` (or `<spell>`): text is collected, then spelled out.
  private spelling: string | undefined;

  /** Reads the next chunk; a tag cut across chunks waits for its end. */
  push(chunk: string): MarkupPiece[] {
    this.held += chunk;
    const out: MarkupPiece[] = [];
    for (;;) {
      const lt = this.held.indexOf('<');
      if (lt < 0) {
        this.text(out, this.held);
        this.held = '';
        return out;
      }
      this.text(out, this.held.slice(0, lt));
      this.held = this.held.slice(lt);
      const gt = this.held.indexOf('>');
      if (gt < 0) {
        if (this.held.length < MAX_TAG_CHARS && /^<\/?(?:[a-z]|$)/i.test(this.held)) return out;
        this.text(out, '<');
        this.held = this.held.slice(1);
        continue;
      }
      const tag = this.held.slice(0, gt + 1);
      this.held = this.held.slice(gt + 1);
      if (MARKUP.test(tag)) this.tag(out, tag);
      else this.text(out, tag);
    }
  }

  /** The end of the text: whatever was held is text after all. */
  end(): MarkupPiece[] {
    const out: MarkupPiece[] = [];
    this.text(out, this.held);
    this.held = '';
    if (this.spelling !== undefined) {
      out.push({ kind: 'text', text: spellOut(this.spelling) });
      this.spelling = undefined;
    }
    return out;
  }

  private text(out: MarkupPiece[], text: string): void {
    if (text === '') return;
    if (this.spelling !== undefined) this.spelling += text;
    else out.push({ kind: 'text', text });
  }

  private tag(out: MarkupPiece[], tag: string): void {
    const closing = /^<\//.test(tag);
    const selfClosing = /\/\s*>$/.test(tag);
    const name = MARKUP.exec(tag)![1]!.toLowerCase();
    const attrs = attributes(tag);
    const type = name === 'expr' ? (attrs['type'] ?? '').toLowerCase() : name;
    if (closing) {
      if (this.spelling !== undefined && (name === 'expr' || name === 'spell')) {
        out.push({ kind: 'text', text: spellOut(this.spelling) });
        this.spelling = undefined;
      }
      return;
    }
    if (type === 'spell' && !selfClosing) {
      this.spelling = '';
      return;
    }
    const label = name === 'expr' ? attrs['label'] : attrs['value'];
    if ((type === 'expression' || type === 'emotion') && label) out.push({ kind: 'expression', label });
  }
}
