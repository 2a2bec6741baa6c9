import { createServer, type AddressInfo } from "node:net";

/** A port nobody listens on right now: the kernel's choice for port 0, released at once. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address to take a free port from");
  return (address satisfies AddressInfo).port;
}
