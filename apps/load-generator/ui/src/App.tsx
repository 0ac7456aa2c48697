// Picks the view from the URL path (the server answers every UI path with index.html).
import { useEffect, useState, type MouseEvent } from "react";
import { ConnectionBanner } from "./components/Banner";
import { Audience } from "./views/Audience";
import { Conversations } from "./views/Conversations";
import { Presenter } from "./views/Presenter";

const VIEWS = [
  { path: "/", label: "Presenter" },
  { path: "/audience", label: "Audience" },
  { path: "/conversations", label: "Conversations" },
] as const;

export function route(pathname: string): "/" | "/audience" | "/conversations" {
  const p = pathname.replace(/\/+$/, "") || "/";
  return p === "/audience" || p === "/conversations" ? p : "/";
}

export function App() {
  const [path, setPath] = useState(route(window.location.pathname));
  useEffect(() => {
    const onPop = () => setPath(route(window.location.pathname));
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const go = (e: MouseEvent<HTMLAnchorElement>, to: string) => {
    e.preventDefault();
    window.history.pushState(null, "", to);
    setPath(route(to));
  };
  return (
    <>
      <ConnectionBanner />
      {path !== "/audience" ? (
        <nav className="nav">
          {VIEWS.map((v) => (
            <a key={v.path} href={v.path} aria-current={path === v.path ? "page" : undefined} onClick={(e) => go(e, v.path)}>
              {v.label}
            </a>
          ))}
        </nav>
      ) : null}
      {path === "/audience" ? <Audience /> : path === "/conversations" ? <Conversations /> : <Presenter />}
    </>
  );
}
