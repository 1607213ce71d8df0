#!/usr/bin/env python3
"""Bench responders for the simulated printer fleet: run inside the fleet namespace.

The fleet's addresses are one local route (AnyIP), so every listener here is bound to the
wildcard and answers for all of them:
- UDP 9300, 6000, 6100 and 5353 answer every datagram with a datagram. Replies leave from the
  address the request was sent to (IP_PKTINFO), as a printer's would; a wildcard socket that
  let the kernel pick would answer from the namespace's primary address instead.
- TCP 21 sends an FTP-style 220 banner; TCP 9100 and 6110 accept and wait.

These stand in for the Lexmark ports (no public implementation exists) and for generic
listeners; SNMP (snmpd) and HTTP/HTTPS (nginx) are the real daemons, started by bench/fleet.
"""

import asyncio
import select
import socket
import struct
import sys
import threading

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)
UDP_PORTS = (9300, 6000, 6100, 5353)
TCP_BANNERS = {21: b"220 mve-audit bench FTP responder ready\r\n", 9100: b"", 6110: b""}


def udp_loop():
    sockets = []
    for port in UDP_PORTS:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s.bind(("0.0.0.0", port))
        s.setblocking(False)
        sockets.append(s)
    while True:
        ready, _, _ = select.select(sockets, [], [])
        for s in ready:
            while True:
                try:
                    data, ancdata, _flags, addr = s.recvmsg(2048, socket.CMSG_SPACE(12))
                except BlockingIOError:
                    break
                dst = None
                for level, kind, cdata in ancdata:
                    if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(cdata) >= 12:
                        _ifindex, _spec, dst = struct.unpack("I4s4s", cdata[:12])
                reply = data if s.getsockname()[1] == 5353 else b"mve-audit bench reply"
                anc = []
                if dst is not None:
                    anc = [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("I4s4s", 0, dst, b"\0" * 4))]
                try:
                    s.sendmsg([reply], anc, 0, addr)
                except OSError:
                    pass


async def tcp_main():
    async def handler(banner, reader, writer):
        try:
            if banner:
                writer.write(banner)
                await writer.drain()
            # Hold the connection until the peer closes it, or 30 s at most.
            await asyncio.wait_for(reader.read(4096), 30)
        except (OSError, asyncio.TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    servers = []
    for port, banner in TCP_BANNERS.items():
        servers.append(
            await asyncio.start_server(
                lambda r, w, b=banner: handler(b, r, w), "0.0.0.0", port, backlog=8192
            )
        )
    print("responders ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main():
    threading.Thread(target=udp_loop, daemon=True).start()
    try:
        asyncio.run(tcp_main())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
