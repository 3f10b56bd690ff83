/**
 * The config reference, made from the schema's own descriptions of its keys: shown by
 * `sluice node start --help` and copied into the README (a test keeps the copy exact).
 */
import { nodeSettings, type SettingDoc } from "./config";

export interface SettingReference extends SettingDoc {
  key: string;
}

/** Every key of the config file, in the schema's order, with its type, default and meaning. */
export function configReference(): SettingReference[] {
  return Object.entries(nodeSettings.shape).map(([key, schema]) => {
    const doc = schema.meta() as SettingDoc | undefined;
    if (doc === undefined) throw new Error(`the config key "${key}" has no description in src/schema/config.ts`);
    return { key, type: doc.type, default: doc.default, about: doc.about, ...(doc.flag === undefined ? {} : { flag: doc.flag }) };
  });
}

/** The reference as text for `--help`. */
export function configReferenceText(): string {
  return configReference()
    .map((s) => `  "${s.key}"${s.flag === undefined ? "" : ` (flag ${s.flag})`}: ${s.about}\n      ${s.type}; default: ${s.default}`)
    .join("\n");
}

/** The reference as a Markdown table for the README. */
export function configReferenceMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = configReference().map((s) => `| \`${s.key}\` | ${s.flag === undefined ? "" : `\`${s.flag}\``} | ${cell(s.type)} | ${cell(s.default)} | ${cell(s.about)} |`);
  return ["| Key | Flag | Type | Default | What it sets |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}
