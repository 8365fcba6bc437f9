import * as net from "node:net";

import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";

import { HOST } from "./processes";

/**
 * An SMTP server stand-in on 127.0.0.1: TLS from the first byte (`tls`), a plain greeting with
 * STARTTLS offered (`starttls`), or plain text with no STARTTLS at all (`plain`, the relay a
 * client must refuse to talk to). It optionally requires AUTH PLAIN or LOGIN with one user, and
 * records every message it accepts (envelope and raw data) and every login attempt.
 */

export type SmtpMode = "tls" | "starttls" | "plain";

export interface SmtpStandInOptions {
    mode: SmtpMode;
    /** Server certificate and key, PEM; required unless `plain`. */
    identity?: { cert: string; key: string };
    /** When set, AUTH (PLAIN, LOGIN) is required and only this user and password are accepted. */
    auth?: { username: string; password: string };
}

export interface ReceivedMail {
    /** `MAIL FROM` address. */
    from: string;
    /** `RCPT TO` addresses, in order. */
    to: string[];
    /** The message as sent after DATA: headers and body. */
    raw: Buffer;
    /** Whether the connection was encrypted when the message was sent. */
    secure: boolean;
    /** The user the session authenticated as, if any. */
    user?: string;
}

export interface LoginAttempt {
    method: string;
    username: string;
    accepted: boolean;
    /** Whether the connection was encrypted when the credentials were sent. */
    secure: boolean;
}

export interface SmtpStandIn {
    host: string;
    port: number;
    mode: SmtpMode;
    messages: ReceivedMail[];
    logins: LoginAttempt[];
    /** Connections accepted so far. */
    connections(): number;
    close(): Promise<void>;
}

/** Starts the stand-in at a free port of 127.0.0.1. */
export async function startSmtp(options: SmtpStandInOptions): Promise<SmtpStandIn> {
    if (options.mode !== "plain" && !options.identity) {
        throw new Error(`an SMTP stand-in in ${options.mode} mode needs a certificate`);
    }
    const messages: ReceivedMail[] = [];
    const logins: LoginAttempt[] = [];
    let connections = 0;

    const disabledCommands: string[] = [];
    if (options.mode === "plain") disabledCommands.push("STARTTLS");
    if (!options.auth) disabledCommands.push("AUTH");

    const config: SMTPServerOptions = {
        secure: options.mode === "tls",
        ...(options.identity ? { key: options.identity.key, cert: options.identity.cert } : {}),
        name: "smtp.stand-in.test",
        banner: "stand-in",
        disabledCommands,
        authMethods: ["PLAIN", "LOGIN"],
        authOptional: !options.auth,
        // A plain-text relay takes a login too, so a client that sends one in clear shows in `logins`.
        allowInsecureAuth: options.mode === "plain",
        disableReverseLookup: true,
        logger: false,
        socketTimeout: 10_000,
        closeTimeout: 1_000,
        onConnect(_session, callback) {
            connections++;
            callback();
        },
        onAuth(auth, session, callback) {
            const expected = options.auth;
            const accepted =
                expected !== undefined && auth.username === expected.username && auth.password === expected.password;
            logins.push({ method: auth.method, username: auth.username ?? "", accepted, secure: session.secure });
            if (!accepted) {
                const refusal = Object.assign(new Error("Invalid username or password"), { responseCode: 535 });
                callback(refusal);
                return;
            }
            callback(null, { user: auth.username });
        },
        onData(stream, session: SMTPServerSession, callback) {
            const chunks: Buffer[] = [];
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("end", () => {
                const { mailFrom, rcptTo } = session.envelope;
                messages.push({
                    from: mailFrom === false ? "" : mailFrom.address,
                    to: rcptTo.map((r) => r.address),
                    raw: Buffer.concat(chunks),
                    secure: session.secure,
                    // smtp-server leaves `false` there when no one logged in.
                    user: typeof session.user === "string" ? session.user : undefined,
                });
                callback();
            });
        },
    };
    const server = new SMTPServer(config);
    // A client dropping its connection is not the stand-in's failure.
    server.on("error", () => undefined);

    await new Promise<void>((resolve, reject) => {
        server.server.once("error", reject);
        server.listen(0, HOST, () => resolve());
    });
    const port = (server.server.address() as net.AddressInfo).port;

    return {
        host: HOST,
        port,
        mode: options.mode,
        messages,
        logins,
        connections: () => connections,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

export interface SilentServer {
    host: string;
    port: number;
    /** Connections accepted so far. */
    connections(): number;
    close(): Promise<void>;
}

/**
 * A TCP listener on 127.0.0.1 that accepts connections and never sends a byte: a mail relay (or
 * any server) that hangs, for testing client deadlines.
 */
export async function startSilentServer(): Promise<SilentServer> {
    const sockets = new Set<net.Socket>();
    let connections = 0;
    const server = net.createServer((socket) => {
        connections++;
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, HOST, () => resolve());
    });
    return {
        host: HOST,
        port: (server.address() as net.AddressInfo).port,
        connections: () => connections,
        close: async () => {
            for (const socket of sockets) socket.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
