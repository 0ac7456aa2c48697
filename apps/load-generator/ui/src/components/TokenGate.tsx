// Asks for the presenter token once (kept in local storage); presenter actions send it.
import { useEffect, useState, type FormEvent } from "react";
import { getToken, onTokenChange, setToken, clearToken } from "../api/token";

export function useToken(): string | null {
  const [token, setState] = useState(getToken());
  useEffect(() => onTokenChange(() => setState(getToken())), []);
  return token;
}

export function TokenForm({ rejected }: { rejected: boolean }) {
  const token = useToken();
  const [value, setValue] = useState("");
  if (token) {
    return (
      <div className="token token-set">
        Presenter token saved{" "}
        <button type="button" className="link" onClick={() => clearToken()}>
          forget
        </button>
      </div>
    );
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) setToken(value);
  };
  return (
    <form className="token" onSubmit={submit} data-testid="token-form">
      {rejected ? <span className="warn">Token rejected — enter it again.</span> : null}
      <label>
        Presenter token{" "}
        <input
          type="password"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          placeholder="printed by `make demo`"
          autoComplete="off"
          name="presenter-token"
        />
      </label>
      <button type="submit">Save</button>
    </form>
  );
}
