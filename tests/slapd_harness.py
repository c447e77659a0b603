"""Debian's OpenLDAP slapd on throwaway loopback ports, for the directory sign-in tests: a temporary
slapd.conf, an mdb database loaded from tests/fixtures/directory.ldif, StartTLS (and ldaps://) with a
server certificate signed by a CA made here, and every operation refused without TLS."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import free_port, throwaway_ca, throwaway_certificate

FIXTURE = Path(__file__).parent / "fixtures" / "directory.ldif"
BASE = "dc=agency,dc=gov,dc=vn"
PEOPLE = f"ou=people,{BASE}"
ROOT_DN, ROOT_PASSWORD = f"cn=admin,{BASE}", "root-password-Xk2"
READER_DN, READER_SECRET = f"cn=intranet-reader,ou=system,{BASE}", "reader-secret-Zq81"
PASSWORD = "directory pass 1"
SCHEMAS = ("core", "cosine", "inetorgperson")
MISSING = "slapd is missing (make test installs it with apt-get when run as root: apt-get install slapd ldap-utils)"


def available() -> bool:
    return shutil.which("slapd") is not None and shutil.which("slapadd") is not None


def group(name: str) -> str:
    office = name.split("-")[1]
    return f"cn={name},ou={office},ou=groups,{BASE}"


def person(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


class Slapd:
    def __init__(self, work: Path, ca_cert: Path, tls: bool = True) -> None:
        self.work, self.ca_cert = work, ca_cert
        self.port, self.tls_port = free_port(), free_port()
        self.url, self.ldaps_url = f"ldap://127.0.0.1:{self.port}", f"ldaps://127.0.0.1:{self.tls_port}"
        self.listen = f"{self.url}/ {self.ldaps_url}/" if tls else f"{self.url}/"
        self.process: subprocess.Popen | None = None

    def start(self) -> Slapd:
        log = (self.work / "slapd.log").open("ab")
        self.process = subprocess.Popen(
            ["slapd", "-f", str(self.work / "slapd.conf"), "-h", self.listen, "-d", "0"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {(self.work / 'slapd.log').read_text(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    @contextmanager
    def admin(self):
        """A connection as the directory's root (to change entries as the agency's IT would)."""
        import ssl

        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(self.ca_cert))
        connection = ldap3.Connection(
            ldap3.Server(self.url, tls=tls, get_info=ldap3.NONE), ROOT_DN, ROOT_PASSWORD, raise_exceptions=True
        )
        connection.open()
        connection.start_tls()
        connection.bind()
        try:
            yield connection
        finally:
            connection.unbind()

    def modify(self, dn: str, **attributes) -> None:
        """Replace attributes of ``dn`` (a list of values, or [] to delete the attribute)."""
        import ldap3

        with self.admin() as connection:
            connection.modify(dn, {name: [(ldap3.MODIFY_REPLACE, values)] for name, values in attributes.items()})

    def remove_member(self, group_dn: str, member_dn: str) -> None:
        import ldap3

        with self.admin() as connection:
            connection.modify(group_dn, {"member": [(ldap3.MODIFY_DELETE, [member_dn])]})

    def add_member(self, group_dn: str, member_dn: str) -> None:
        import ldap3

        with self.admin() as connection:
            connection.modify(group_dn, {"member": [(ldap3.MODIFY_ADD, [member_dn])]})


@contextmanager
def slapd(tls: bool = True) -> Iterator[Slapd]:
    """The fixture directory in a running slapd; stopped and removed afterwards. Without ``tls`` it has no
    certificate: StartTLS is refused and it speaks only in clear (what a client must refuse)."""
    work = Path(tempfile.mkdtemp(prefix="slapd-"))
    ca_cert, ca_key = throwaway_ca(work)
    cert, key = throwaway_certificate(
        work, "localhost", ips=("127.0.0.1",), dns=("localhost",), ca=(ca_cert, ca_key), prefix="server-"
    )
    (work / "db").mkdir()
    includes = "\n".join(f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS)
    # Nothing without TLS: a client that skips StartTLS is refused by the server too.
    tls_lines = (
        f"TLSCACertificateFile {ca_cert}\nTLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\nsecurity tls=1"
        if tls
        else ""
    )
    (work / "slapd.conf").write_text(
        f"""{includes}
pidfile {work}/slapd.pid
argsfile {work}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
{tls_lines}
database mdb
maxsize 10485760
suffix "{BASE}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {work}/db
access to attrs=userPassword by anonymous auth by self read by * none
access to * by dn.exact="{READER_DN}" read by self read by * none
"""
    )
    subprocess.run(
        ["slapadd", "-f", str(work / "slapd.conf"), "-l", str(FIXTURE)], check=True, capture_output=True, timeout=60
    )
    server = Slapd(work, ca_cert, tls=tls).start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def directory_server() -> Iterator[Slapd]:
    """One slapd for the session (tests that change its entries put them back)."""
    if not available():
        pytest.skip(MISSING)
    with slapd() as server:
        yield server


@pytest.fixture
def agency(app, data, directory_server):
    """Two offices with the plugin on and set up for the directory, each with a local administrator."""
    data.office("VKS", name="Viện kiểm sát tỉnh")
    data.office("TOA", name="Tòa án tỉnh")
    ids = {
        "vks_admin": data.user("vksadmin", "VKS", roles=("admin",)),
        "toa_admin": data.user("toaadmin", "TOA", roles=("admin",)),
    }
    configure(app, "VKS", "vksadmin", directory_server)
    configure(app, "TOA", "toaadmin", directory_server)
    return ids


# What each office's groups give (tests/fixtures/directory.ldif).
GROUP_MAPS = {
    "VKS": f"{group('chibo-vkspd-bithu')} = secretary\n{group('chibo-vkspd-chiuy')} = committee\n"
    f"{group('chibo-vkspd-dangvien')} = member",
    "TOA": f"{group('chibo-toaan-phobithu')} = deputy\n{group('chibo-toaan-dangvien')} = member",
}


def configure(app, office_code: str, admin_username: str, server: Slapd, **overrides) -> None:
    """Switch the directory plugin on for the office and save its settings as its administrator would."""
    from sqlalchemy import select

    from intranet.extensions import db
    from intranet.models import Office, User
    from intranet.plugins import manager
    from intranet_directory.settings import save

    with app.test_request_context():
        office = db.session.scalar(select(Office).where(Office.code == office_code))
        admin = db.session.scalar(select(User).where(User.username == admin_username))
        if not manager().is_enabled(office.id, "directory"):
            manager().set_enabled(office, "directory", True)
        fields = {
            "urls": server.url,
            "ca_pem": server.ca_cert.read_text() if "ca_pem" not in overrides else "",
            "bind_dn": READER_DN,
            "search_base": PEOPLE,
            "user_filter": "(&(objectClass=inetOrgPerson)(uid={username}))",
            "name_attribute": "cn",
            "email_attribute": "mail",
            "status_attribute": "employeeType",
            "group_map": GROUP_MAPS[office_code],
            "nested_groups": False,
            "secret_given": READER_SECRET,
            **overrides,
        }
        save(office.id, admin, **fields)
        db.session.commit()
