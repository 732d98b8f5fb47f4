/**
 * Settings that would silently weaken the gateway. A known gap is kept as `test.failing` so it stays
 * visible in every run and flips to a failure (remove `.failing`) once the renderer refuses it.
 */
import { renderNginxConf, resolveNginxSettings } from '../../../deployments/nginx';

/** `[path, body]` of each `location = <path> { ... }` block, nested blocks included in the body. */
function exactLocations(conf: string): [string, string][] {
  const found: [string, string][] = [];
  const lines = conf.split('\n');
  lines.forEach((line, start) => {
    const open = /^\s*location = (\S+) \{$/.exec(line);
    if (open === null) return;
    let depth = 0;
    for (let end = start; end < lines.length; end++) {
      depth += (lines[end]!.match(/\{/g) ?? []).length - (lines[end]!.match(/\}/g) ?? []).length;
      if (depth === 0) {
        found.push([open[1]!, lines.slice(start + 1, end).join('\n')]);
        return;
      }
    }
  });
  return found;
}

describe('basic auth cannot be configured away', () => {
  test('every proxied API location of the default config has auth_basic with a user file', () => {
    const locations = exactLocations(renderNginxConf(resolveNginxSettings())).filter(([, body]) =>
      body.includes('proxy_pass'),
    );
    expect(locations.map(([path]) => path).sort()).toEqual(['/docs', '/openapi.json', '/predict']);
    for (const [, body] of locations) {
      expect(body).toMatch(/^\s*auth_basic "[^"]+";$/m);
      expect(body).toMatch(/^\s*auth_basic_user_file "[^"]+";$/m);
      expect(body).not.toMatch(/auth_basic "?off"?;/);
    }
  });

  // nginx evaluates the realm at run time and treats "off" as "no authentication" (checked on
  // nginx 1.22.1: POST /predict without credentials answered 200), so the realm rule refuses it.
  test.each(['off', 'OFF', ' Off '])('authRealm %j (which nginx reads as "auth off") is refused', (realm) => {
    expect(() => resolveNginxSettings({ authRealm: realm })).toThrow(/authRealm must not be "off"/);
  });
});
