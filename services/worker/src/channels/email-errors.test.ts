import { describe, expect, it } from "vitest";
import { classifySmtpError } from "./email.channel.js";
import { RecipientRefusedError } from "./hard-bounce.js";

// What nodemailer throws for a refused recipient quotes the address in its message, its response
// and its rejected list; the logger serializes `cause` in full, so none of it may keep the address.
describe("classifySmtpError", () => {
  const address = "Zoe.Quill@Example.com";
  const refused = Object.assign(new Error(`Can't send mail - all recipients were rejected: 550 5.1.1 <${address.toLowerCase()}>: mailbox unavailable`), {
    code: "EENVELOPE",
    responseCode: 550,
    command: "RCPT TO",
    response: `550 5.1.1 <${address.toUpperCase()}>: mailbox unavailable`,
    rejected: [address],
  });

  it("keeps the codes and drops the address, in any letter case, from the message and the cause", () => {
    const error = classifySmtpError(refused, address);
    expect(error).toBeInstanceOf(RecipientRefusedError);
    expect(error.message).toBe("e-mail refused: Can't send mail - all recipients were rejected: 550 5.1.1 <<recipient>>: mailbox unavailable");
    expect(error.cause).toMatchObject({ code: "EENVELOPE", responseCode: 550, command: "RCPT TO", response: "550 5.1.1 <<recipient>>: mailbox unavailable" });
    const serialized = JSON.stringify({ error, cause: error.cause, fields: Object.entries(error.cause ?? {}), stack: error.cause instanceof Error ? error.cause.stack : "" });
    expect(serialized.toLowerCase()).not.toContain(address.toLowerCase());
  });
});
