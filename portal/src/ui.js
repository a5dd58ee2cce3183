import { h } from 'preact';
import htm from 'htm';
import { ApiError } from './api.js';

export const html = htm.bind(h);

export const CANONICAL_EVENTS = ['contact', 'subscribed', 'registration', 'deposit'];

export function ErrorNote({ error }) {
  if (!error) return null;
  const text = error instanceof ApiError && error.status === 404 ? 'Not found.' : error.message;
  return html`<p class="error" role="alert">${text}</p>`;
}
