// The presenter token, asked once and kept in the browser's local storage.
const KEY = "loadgen.presenterToken";
const listeners = new Set<() => void>();

export function getToken(): string | null {
  return window.localStorage.getItem(KEY);
}

export function setToken(token: string): void {
  window.localStorage.setItem(KEY, token.trim());
  listeners.forEach((l) => l());
}

export function clearToken(): void {
  if (getToken() === null) return;
  window.localStorage.removeItem(KEY);
  listeners.forEach((l) => l());
}

export function onTokenChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
