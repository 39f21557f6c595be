// The `octet` usage text, written from the option tables (src/engine/options.ts and the CLI-only ones in main.ts):
// one synopsis per command for `octet --help`, and a line per option for `octet help COMMAND`.
import { describeAllowed, OptionSpec, OptionTable } from '../engine/option-kinds';

export interface CommandUsage {
  name: string;
  /** Positional arguments, e.g. `FP32.onnx INT8.onnx`. */
  operands: string;
  options: OptionTable;
  /** Said after the synopsis. */
  note?: string;
}

const WIDTH = 118;

/** `--flag VALUE` as the synopsis shows it: enumerated values, the default after `=`. */
function flagForm(option: OptionSpec): string {
  switch (option.kind) {
    case 'switch':
      return `--${option.flag}`;
    case 'choice':
      return `--${option.flag} ${option.values.join('|')}`;
    case 'integer':
    case 'number':
      return `--${option.flag} ${option.valueName ?? 'N'}${option.default === null ? '' : `=${option.default}`}`;
    default:
      return `--${option.flag} ${option.valueName ?? 'VALUE'}`;
  }
}

function synopsisTokens(options: OptionTable): string[] {
  const tokens: string[] = [];
  for (const option of Object.values(options)) {
    tokens.push(option.kind === 'text' && option.required ? flagForm(option) : `[${flagForm(option)}]`);
    if (option.kind === 'choice') for (const alias of option.aliases ?? []) tokens.push(`[--${alias.flag} (= ${alias.value})]`);
  }
  return tokens;
}

/** `octet NAME OPERANDS [--flag …] …`, wrapped, continuation lines indented. */
export function synopsis(command: CommandUsage, indent = '  '): string {
  const lines: string[] = [];
  let line = `${indent}octet ${command.name} ${command.operands}`;
  for (const token of synopsisTokens(command.options)) {
    if (line.length + 1 + token.length > WIDTH) {
      lines.push(line);
      line = `${indent}      ${token}`;
    } else {
      line += ` ${token}`;
    }
  }
  lines.push(line);
  if (command.note) lines[lines.length - 1] += `   (${command.note})`;
  return lines.join('\n');
}

function defaultText(option: OptionSpec): string {
  if (option.kind === 'text') return option.required ? 'required' : '';
  if (option.kind === 'switch' || option.default === null) return '';
  if (Array.isArray(option.default)) return '';
  return `default ${option.default}`;
}

function rangeText(option: OptionSpec): string {
  return option.kind === 'integer' || option.kind === 'number' ? describeAllowed(option) : '';
}

/** One line per option: the flag, its doc, its default and range. */
export function optionHelp(command: CommandUsage): string {
  const rows: [string, string][] = [];
  for (const option of Object.values(command.options)) {
    const facts = [defaultText(option), rangeText(option)].filter(Boolean).join('; ');
    rows.push([flagForm(option).replace(/=[^ ]*$/, ''), facts ? `${option.doc} [${facts}]` : option.doc]);
    if (option.kind === 'choice') for (const alias of option.aliases ?? []) rows.push([`--${alias.flag}`, alias.doc]);
  }
  const width = Math.min(24, Math.max(...rows.map(([flag]) => flag.length)));
  const body = rows.map(([flag, doc]) => (flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${doc}` : `  ${flag.padEnd(width)}  ${doc}`));
  return [synopsis(command, ''), '', ...body].join('\n');
}
