"""Demo data for ``make run``: a city procuracy and one of its district procuracies with a full cell."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from .admin.services import create_office, create_user, grant_role, temporary_password, update_office
from .extensions import db
from .models import PartyStatus, Role, utcnow
from .notifications import Notification, restamp
from .plugins import manager

OFFICIAL, PROBATIONARY = PartyStatus.OFFICIAL, PartyStatus.PROBATIONARY

# username, full name, roles in the district office, party status
DISTRICT_PEOPLE = [
    ("bithu", "Nguyễn Văn Hùng", (Role.SECRETARY, Role.MEMBER), OFFICIAL),
    ("phobithu", "Trần Thị Mai", (Role.DEPUTY, Role.MEMBER), OFFICIAL),
    ("chiuy", "Lê Minh Tâm", (Role.COMMITTEE, Role.MEMBER), OFFICIAL),
    ("dangvien1", "Phạm Quốc Bảo", (Role.MEMBER,), OFFICIAL),
    ("dangvien2", "Võ Thị Thu Hà", (Role.MEMBER,), OFFICIAL),
    ("dangvien3", "Huỳnh Thanh Phong", (Role.MEMBER,), OFFICIAL),
    ("dangvien4", "Đặng Ngọc Ánh", (Role.MEMBER,), OFFICIAL),
    ("dangvien5", "Bùi Văn Lộc", (Role.MEMBER,), OFFICIAL),
    ("dangvien6", "Ngô Thị Kim Ngân", (Role.MEMBER,), OFFICIAL),
    ("dubi1", "Trương Gia Huy", (Role.MEMBER,), PROBATIONARY),
    ("dubi2", "Lý Thị Diễm My", (Role.MEMBER,), PROBATIONARY),
]


def seed_demo() -> list[tuple[str, str, str]]:
    """Create the demo; return (username, what they are, password) for each account."""
    city = create_office(
        code="VKS-CT",
        name="Viện kiểm sát nhân dân thành phố Cần Thơ",
        parent=None,
        party_committee="ĐẢNG BỘ VIỆN KIỂM SÁT NHÂN DÂN THÀNH PHỐ CẦN THƠ",
        cell_name="CHI BỘ VĂN PHÒNG",
    )
    district = create_office(
        code="VKS-PD",
        name="Viện kiểm sát nhân dân huyện Phong Điền",
        parent=city,
        party_committee="ĐẢNG BỘ VIỆN KIỂM SÁT NHÂN DÂN THÀNH PHỐ CẦN THƠ",
        cell_name="CHI BỘ VIỆN KIỂM SÁT NHÂN DÂN HUYỆN PHONG ĐIỀN",
    )
    update_office(
        district,
        document_place="Phong Điền",
        document_number_suffix="CB",
        document_recipients="Đảng ủy Viện kiểm sát nhân dân thành phố Cần Thơ (để báo cáo)\n"
        "Các đảng viên trong chi bộ\nLưu chi bộ",
    )
    accounts, people = [], {}

    def add(username, full_name, office, roles, status, what):
        password = temporary_password()
        user, _ = create_user(
            username=username,
            full_name=full_name,
            office=office,
            roles=roles,
            party_status=status,
            email=f"{username}@vks.example",
            password=password,
            via="demo",
        )
        accounts.append((username, what, password))
        people[username] = user
        return user

    add("admin", "Quản trị hệ thống", city, (Role.ADMIN,), None, "admin, VKS-CT and below")
    for username, full_name, roles, status in DISTRICT_PEOPLE:
        add(username, full_name, district, roles, status, f"{roles[0].value}, VKS-PD ({status.value})")
    # A member of the city's committee invited to the district cell's meetings.
    guest = add("khach", "Đỗ Văn Thành", city, (Role.MEMBER,), OFFICIAL, "member, VKS-CT; guest of VKS-PD")
    grant_role(guest, district, Role.GUEST)
    manager().for_office(district.id).intranet_demo_data(office=district, people=people, actor=people["bithu"])
    # Notices older than a fortnight have been read, a day after they came: the bell shows what is recent.
    old = select(Notification).where(Notification.created_at < utcnow() - timedelta(days=14))
    read = db.session.scalars(old).all()
    for notice in read:
        notice.read_at = notice.created_at + timedelta(days=1)
    restamp({notice.user_id for notice in read})
    return accounts
