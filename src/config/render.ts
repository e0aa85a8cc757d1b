/**
 * The resolved configuration as YAML, the form `ovn-bgp config` prints. The output is itself a valid
 * config file for this agent (our YAML syntax), so "print, edit, load" works. With `sources`, each option
 * set by a file carries a comment naming that file, answering "where does this value come from?".
 */
import { Document, isMap, isPair, isScalar, type Node } from "yaml";
import { DEFAULTS_SOURCE } from "./errors.ts";
import type { LoadedConfig } from "./load.ts";

export interface RenderOptions {
  /** Annotate each option not left at its default with `# from <file>`. */
  readonly sources?: boolean;
}

export function renderConfigYaml(loaded: LoadedConfig, opts: RenderOptions = {}): string {
  const doc = new Document(loaded.config);
  const read = loaded.files.length === 0 ? ["(none: built-in defaults)"] : loaded.files;
  doc.commentBefore = [
    " Resolved ovn-bgp configuration. Files read, lowest precedence first:",
    ...read.map((f) => `   ${f}`),
  ].join("\n");
  if (opts.sources && isMap(doc.contents)) annotate(doc.contents.items, "", loaded.sources);
  return doc.toString({ lineWidth: 0 });
}

function annotate(items: readonly unknown[], prefix: string, sources: ReadonlyMap<string, string>): void {
  for (const pair of items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const path = `${prefix}${String(pair.key.value)}`;
    const value = pair.value as Node | null;
    if (isMap(value)) {
      annotate(value.items, `${path}.`, sources);
      continue;
    }
    const source = sources.get(path);
    if (!value || !source || source === DEFAULTS_SOURCE) continue;
    // Scalars get a trailing comment; lists a comment line above their key (a trailing one lands after the last item).
    if (isScalar(value)) value.comment = ` from ${source}`;
    else pair.key.commentBefore = ` from ${source}`;
  }
}
