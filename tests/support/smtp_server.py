"""A real SMTP server for the mail tests (aiosmtpd), with faults on demand.

Accepted messages are stored in a maildir (one file each, written
atomically). Behaviour by recipient local part:
  reject...  the RCPT is refused with 550 (a permanent failure);
  flaky...   the first DATA of each Message-ID is refused with 451, the
             next one accepted (a temporary failure).
--delay-ms slows every DATA down (to kill a worker mid-batch).
--mode starttls|smtps with --cert/--key serve TLS.
"""

import argparse
import asyncio
import email
import mailbox
import signal
import ssl

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, maildir, delay):
        self.box = mailbox.Maildir(maildir, create=True)
        self.delay = delay
        self.refused_once = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("reject"):
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message_id = email.message_from_bytes(envelope.content).get("Message-ID")
        flaky = any(a.split("@")[0].startswith("flaky") for a in envelope.rcpt_tos)
        if flaky and message_id not in self.refused_once:
            self.refused_once.add(message_id)
            return "451 4.3.0 mailbox busy, try again later"
        self.box.add(envelope.content)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--mode", choices=["plain", "starttls", "smtps"], default="plain")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    handler = Handler(args.maildir, args.delay_ms / 1000.0)
    kwargs = {}
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.mode == "smtps":
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
    controller = Controller(handler, hostname="127.0.0.1", port=args.port, **kwargs)
    controller.start()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
