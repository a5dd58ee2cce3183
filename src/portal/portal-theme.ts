/** A theme colour as the portal accepts it: 3 or 6 hex digits, without the `#`. */
const THEME = /^(?:[0-9a-fA-F]{3}){1,2}$/;

/** The query string that carries a valid theme on to the page, or '' (an invalid one is dropped, never echoed). */
export function themeQuery(theme: unknown): string {
  return typeof theme === 'string' && THEME.test(theme) ? `?theme=${theme}` : '';
}
