// Runs config files through VS Code's JSON language service, the engine behind VS Code's JSON editing and
// the YAML language server. Driven by tests/test_editor.py and tests/test_agreement.py.
//
// Reads one JSON request on stdin:
//   {"schema": "<path of the bundled schema>", "fileMatch": ["*.json"],   // like VS Code's json.schemas setting
//    "files": ["<config path>", ...],                                    // diagnostics for each file
//    "complete": [{"file": "<path>", "line": 0, "character": 0}, ...]}   // completion items at a position
// Writes one JSON answer on stdout:
//   {"files": [{"file", "schemas": [<schema URIs the editor bound>],
//               "diagnostics": [{"severity", "message", "code", "start", "end", "path"}]}],
//    "completions": [{"file", "items": [{"label", "kind", "documentation", "insertText"}]}]}
// `path` is the JSON path (keys and indices) of the innermost property or item where a diagnostic starts.
// A config with a "$schema" key is bound through it (resolved relative to the file, as VS Code does);
// the others through fileMatch.

import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import languageService from 'vscode-json-languageservice';

const { ClientCapabilities, DiagnosticSeverity, getLanguageService, TextDocument } = languageService;

const SEVERITY = { [DiagnosticSeverity.Error]: 'error', [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'information', [DiagnosticSeverity.Hint]: 'hint' };

function nodePath(node) {
  const path = [];
  let child = node;
  while (child && child.parent) {
    const parent = child.parent;
    if (parent.type === 'property') {
      path.unshift(parent.keyNode.value);
      child = parent.parent;
      continue;
    }
    if (parent.type === 'array') {
      path.unshift(parent.items.indexOf(child));
    }
    child = parent;
  }
  return path;
}

function load(file) {
  const text = readFileSync(file, 'utf8');
  const document = TextDocument.create(pathToFileURL(file).href, 'json', 1, text);
  return { document, jsonDocument: service.parseJSONDocument(document) };
}

const request = JSON.parse(readFileSync(0, 'utf8'));
const service = getLanguageService({
  clientCapabilities: ClientCapabilities.LATEST, // like VS Code: markdown in completions and hovers
  schemaRequestService: async (uri) => readFileSync(fileURLToPath(uri), 'utf8'),
  workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).href },
});
service.configure({
  validate: true,
  allowComments: false,
  schemas: [{ uri: pathToFileURL(request.schema).href, fileMatch: request.fileMatch ?? [] }],
});
const settings = { schemaValidation: 'error', schemaRequest: 'error', comments: 'error', trailingCommas: 'error' };

const files = [];
for (const file of request.files ?? []) {
  const { document, jsonDocument } = load(file);
  const diagnostics = await service.doValidation(document, jsonDocument, settings);
  files.push({
    file,
    schemas: service.getLanguageStatus(document, jsonDocument).schemas,
    diagnostics: diagnostics.map((d) => ({
      severity: SEVERITY[d.severity] ?? String(d.severity),
      message: d.message,
      code: d.code ?? null,
      start: d.range.start,
      end: d.range.end,
      path: nodePath(jsonDocument.getNodeFromOffset(document.offsetAt(d.range.start), true)),
    })),
  });
}

const completions = [];
for (const { file, line, character } of request.complete ?? []) {
  const { document, jsonDocument } = load(file);
  const list = await service.doComplete(document, { line, character }, jsonDocument);
  completions.push({
    file,
    items: (list?.items ?? []).map((item) => ({
      label: item.label,
      kind: item.kind ?? null,
      documentation: typeof item.documentation === 'object' ? item.documentation.value : item.documentation ?? null,
      insertText: item.insertText ?? item.textEdit?.newText ?? null,
    })),
  });
}

process.stdout.write(JSON.stringify({ files, completions }));
