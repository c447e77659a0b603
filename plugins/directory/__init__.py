"""Directory sign-in: staff sign in with the agency's LDAP or Active Directory; the first sign-in creates
the account in the office whose groups give it a role, later ones refresh it, and a sync deactivates the
accounts that left (README "Directory sign-in plugin")."""

from flask_babel import lazy_gettext as _l

from intranet.models import Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="directory",
        title_vi="Đăng nhập bằng thư mục cơ quan",
        title_en="Directory sign-in",
        version="0.1.0",
        default_enabled=False,
        description_vi="Cán bộ đăng nhập bằng tài khoản LDAP / Active Directory của cơ quan; tài khoản được tạo ở "
        "lần đăng nhập đầu, vai trò lấy theo nhóm; tài khoản rời thư mục bị khóa khi đồng bộ.",
        description_en="Staff sign in with the agency's LDAP / Active Directory account; the account is created at "
        "the first sign-in, its roles follow its groups; accounts that left the directory are deactivated by the sync.",
        # Defaults for every office's settings (a field an office leaves empty takes these); the bind secret can
        # stay in the environment only. DIRECTORY_TIMEOUT_SECONDS bounds each connection and each answer.
        config={
            "DIRECTORY_URLS": "",
            "DIRECTORY_CA_PEM": "",
            "DIRECTORY_BIND_DN": "",
            "DIRECTORY_BIND_SECRET": "",
            "DIRECTORY_SEARCH_BASE": "",
            "DIRECTORY_USER_FILTER": "(&(objectClass=inetOrgPerson)(uid={username}))",
            "DIRECTORY_NAME_ATTRIBUTE": "cn",
            "DIRECTORY_EMAIL_ATTRIBUTE": "mail",
            "DIRECTORY_STATUS_ATTRIBUTE": "",
            "DIRECTORY_TIMEOUT_SECONDS": 5,
            # The hosts an office's own server URLs may name, space-separated; empty: any. With more than one
            # office, set it: a first sign-in tries every office's directory with the password typed.
            "DIRECTORY_ALLOWED_HOSTS": "",
        },
    )


@hookimpl
def intranet_blueprints():
    from . import models  # noqa: F401  (tables known to the migrations)
    from .views import bp

    return [bp]


@hookimpl
def intranet_cli_commands():
    from .views import cli

    return [cli]


@hookimpl
def intranet_permissions():
    return [
        Permission("directory.configure", _l("Set up sign-in with the agency's directory"), frozenset({Role.ADMIN}))
    ]


@hookimpl
def intranet_nav_items(office, user):
    from intranet.access import can

    if user.is_authenticated and office is not None and can(user, "directory.configure", office.id):
        return [NavItem(_l("Directory sign-in"), "directory.config", order=95, url_kwargs={"office_id": office.id})]
    return []


@hookimpl
def intranet_authenticate(username, password, user):
    from .signin import authenticate

    return authenticate(username, password, user)


@hookimpl
def intranet_doctor_checks():
    from .checks import findings

    return findings()
