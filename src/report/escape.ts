// Model refs, reasons and log lines are user input: they must render as text, never as markup, mentions or links.

/** Text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/**
 * Text for a GitHub-flavoured Markdown line or table cell: HTML-escaped, the punctuation that starts emphasis, code,
 * links, headings or strike-through backslash-escaped,
 * pipes escaped for tables, "@" entity-encoded so a log line cannot mention anyone, newlines flattened.
 */
export function escapeMarkdown(text: string): string {
  return escapeHtml(text.replace(/[\r\n]+/g, ' '))
    .replace(/([\\`*_[\]#|~])/g, '\\$1')
    .replace(/@/g, '&#64;')
}
