"""A second outside plugin that needs the first, to test ``requires``."""

from intranet.plugins import PluginInfo, hookimpl


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="hello_extra", title_vi="Xin chào thêm", title_en="Hello extra", version="0.1", requires=("hello",)
    )
