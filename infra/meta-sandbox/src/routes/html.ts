/** Minimal, dependency-free HTML for the login dialogs. Every interpolated value goes through `escape`. */
export function escape(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f0f2f5;margin:0;padding:2rem;color:#1c1e21}
main{max-width:34rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 3px #0003}
h1{font-size:1.3rem}fieldset{border:1px solid #dddfe2;border-radius:6px;margin:1rem 0}legend{font-weight:600}
label{display:block;margin:.3rem 0}.muted{color:#606770;font-size:.9rem}.actions{display:flex;gap:.5rem;margin-top:1rem}
button{font-size:1rem;padding:.5rem 1.2rem;border-radius:6px;border:0;cursor:pointer}
button[value=allow]{background:#1877f2;color:#fff}button[value=deny]{background:#e4e6eb}
.error{border-left:4px solid #fa383e;padding-left:1rem}code{background:#f5f6f7;padding:0 .2rem}
</style></head><body><main>${body}</main></body></html>`;
}

export function errorPage(title: string, detail: string): string {
  return page(title, `<div class="error"><h1>${escape(title)}</h1><p>${escape(detail)}</p></div>
<p class="muted">Meta sandbox: this is what the real dialog shows instead of redirecting.</p>`);
}

export function hidden(fields: Readonly<Record<string, string | undefined>>): string {
  return Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}">`)
    .join('');
}
