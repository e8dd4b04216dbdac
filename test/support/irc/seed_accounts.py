#!/usr/bin/env python3
"""Add NickServ accounts to an Anope 2.0 db_flatfile database (anope.db) while Anope is stopped.

usage: seed_accounts.py DBFILE NAME:PASSWORD[:CERTFP] [NAME:PASSWORD[:CERTFP] ...]

Accounts that already exist (a NickAlias with that nick, case-insensitive) are left alone, so
this is safe to run on every start. Passwords are written in enc_none's format
("plain:" + base64); services.conf loads enc_none after enc_sha256, so these log in, and
Anope re-hashes them as sha256 on first successful login. CERTFP (a client certificate's SHA-256
fingerprint, lowercase hex) is stored as ns_cert does, so that certificate logs in with SASL EXTERNAL.
"""
import base64
import os
import sys
import time


def existing_nicks(path):
    nicks, obj = set(), None
    if not os.path.exists(path):
        return nicks
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("OBJECT "):
                obj = line[7:]
            elif line == "END":
                obj = None
            elif obj == "NickAlias" and line.startswith("DATA nick "):
                nicks.add(line[10:].lower())
    return nicks


def record(name, password, now, certfp=""):
    pw = "plain:" + base64.b64encode(password.encode()).decode()
    cert = f"DATA cert {certfp}\n" if certfp else ""
    return (
        "OBJECT NickCore\n"
        f"DATA display {name}\n"
        f"DATA pass {pw}\n"
        f"DATA email {name}@lab.invalid\n"
        "DATA language \n"
        "DATA memomax 0\n"
        "DATA HIDE_EMAIL 1\n"
        "DATA HIDE_MASK 1\n"
        "DATA NS_PRIVATE 1\n"
        "DATA NS_SECURE 1\n"
        f"{cert}"
        "END\n"
        "OBJECT NickAlias\n"
        f"DATA nick {name}\n"
        "DATA last_quit \n"
        "DATA last_realname seeded by irc lab\n"
        f"DATA last_usermask {name}@lab.invalid\n"
        f"DATA last_realhost {name}@lab.invalid\n"
        f"DATA time_registered {now}\n"
        f"DATA last_seen {now}\n"
        f"DATA nc {name}\n"
        "END\n"
    )


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    db = sys.argv[1]
    have = existing_nicks(db)
    now = int(time.time())
    add = []
    for spec in sys.argv[2:]:
        name, sep, rest = spec.partition(":")
        pw, _, certfp = rest.partition(":")
        if not sep or not name or not pw or any(c in name for c in " \t\n"):
            sys.exit("bad account spec %r (want NAME:PASSWORD)" % spec)
        if name.lower() not in have:
            add.append(record(name, pw, now, certfp.lower()))
            have.add(name.lower())
    if add:
        with open(db, "a", encoding="utf-8") as f:
            f.write("".join(add))
    print(len(add))


if __name__ == "__main__":
    main()
