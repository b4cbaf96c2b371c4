// Queries over HTTP POST /graphql with the session's bearer token.

export const GRAPHQL_PATH = "/graphql";
const TOKEN_KEY = "tradestate.readerToken";

export class GraphQLError extends Error {
  constructor(message: string, readonly code: string | null) {
    super(message);
  }
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export async function query<T>(
  document: string,
  variables: Record<string, unknown> = {},
  token: string | null = savedToken(),
): Promise<T> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(GRAPHQL_PATH, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: document, variables }),
  });
  let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    body = await response.json();
  } catch {
    throw new GraphQLError(`HTTP ${response.status}`, response.status === 401 ? "UNAUTHENTICATED" : null);
  }
  if (body.errors?.length) {
    const first = body.errors[0];
    const code = first.extensions?.code ?? (response.status === 401 ? "UNAUTHENTICATED" : null);
    throw new GraphQLError(first.message, code);
  }
  if (!response.ok || body.data === undefined) {
    throw new GraphQLError(`HTTP ${response.status}`, response.status === 401 ? "UNAUTHENTICATED" : null);
  }
  return body.data;
}

export function websocketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${GRAPHQL_PATH}`;
}
