"""config.json validator generated from config.json.schema. DO NOT EDIT.

Regenerate with: .venv/bin/python tools/gen_validator.py
schema sha256: 431043f4620c65f780965038b5082d578644d80b1ac5534ae5d943e6037f3614
generator: fastjsonschema 2.22.3 compile_to_code, post-processed (stdlib only)

validate(data) returns data or raises JsonSchemaValueException whose .name is the
path of the bad value (data.mounts[2].destination) and .message says what is wrong.
"""
# ruff: noqa
VERSION = '2.22.3'

class JsonSchemaException(ValueError):
    """Base class; stands in for fastjsonschema's, which is not imported at run time."""

class JsonSchemaValueException(JsonSchemaException):
    """The data breaks the schema: message, value, name (data.x[0].y), rule."""

    def __init__(self, message, value=None, name=None, definition=None, rule=None):
        super().__init__(message)
        self.message = message
        self.value = value
        self.name = name
        self.definition = definition
        self.rule = rule

class JsonSchemaValuesException(JsonSchemaException):
    """Every error at once (only raised by code generated with fast_fail=False)."""

    def __init__(self, errors):
        self.message = '; '.join((e.message for e in errors))
        super().__init__(self.message)
        self.errors = errors
_PATTERN_SOURCES = {'^[0-9, -]*$': '^[0-9, -]*\\Z'}

class _LazyPatterns(dict):
    """Compile each pattern on first use: importing this module must not import re."""

    def __missing__(self, key):
        import re
        value = self[key] = re.compile(_PATTERN_SOURCES[key])
        return value
REGEX_PATTERNS = _LazyPatterns()
NoneType = type(None)

def validate(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['ociVersion']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'ociVersion' in data_keys:
            data_keys.remove('ociVersion')
            data__ociVersion = data['ociVersion']
            if not isinstance(data__ociVersion, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.ociVersion must be string', value=data__ociVersion, name='' + (name_prefix or 'data') + '.ociVersion', rule='type')
        if 'root' in data_keys:
            data_keys.remove('root')
            data__root = data['root']
            validate___definitions_root(data__root, custom_formats, (name_prefix or 'data') + '.root')
        if 'mounts' in data_keys:
            data_keys.remove('mounts')
            data__mounts = data['mounts']
            if not isinstance(data__mounts, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.mounts must be array', value=data__mounts, name='' + (name_prefix or 'data') + '.mounts', rule='type')
            data__mounts_is_list = isinstance(data__mounts, (list, tuple))
            if data__mounts_is_list:
                data__mounts_len = len(data__mounts)
                for data__mounts_x, data__mounts_item in enumerate(data__mounts):
                    validate___definitions_mount(data__mounts_item, custom_formats, (name_prefix or 'data') + '.mounts[{data__mounts_x}]'.format(**locals()))
        if 'process' in data_keys:
            data_keys.remove('process')
            data__process = data['process']
            validate___definitions_process(data__process, custom_formats, (name_prefix or 'data') + '.process')
        if 'hostname' in data_keys:
            data_keys.remove('hostname')
            data__hostname = data['hostname']
            if not isinstance(data__hostname, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.hostname must be string', value=data__hostname, name='' + (name_prefix or 'data') + '.hostname', rule='type')
        if 'domainname' in data_keys:
            data_keys.remove('domainname')
            data__domainname = data['domainname']
            if not isinstance(data__domainname, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.domainname must be string', value=data__domainname, name='' + (name_prefix or 'data') + '.domainname', rule='type')
        if 'hooks' in data_keys:
            data_keys.remove('hooks')
            data__hooks = data['hooks']
            validate___definitions_hooks(data__hooks, custom_formats, (name_prefix or 'data') + '.hooks')
        if 'annotations' in data_keys:
            data_keys.remove('annotations')
            data__annotations = data['annotations']
            validate___definitions_annotations(data__annotations, custom_formats, (name_prefix or 'data') + '.annotations')
        if 'linux' in data_keys:
            data_keys.remove('linux')
            data__linux = data['linux']
            validate___definitions_linux(data__linux, custom_formats, (name_prefix or 'data') + '.linux')
    return data

def validate___definitions_linux(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'namespaces' in data_keys:
            data_keys.remove('namespaces')
            data__namespaces = data['namespaces']
            if not isinstance(data__namespaces, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.namespaces must be array', value=data__namespaces, name='' + (name_prefix or 'data') + '.namespaces', rule='type')
            data__namespaces_is_list = isinstance(data__namespaces, (list, tuple))
            if data__namespaces_is_list:
                data__namespaces_len = len(data__namespaces)
                for data__namespaces_x, data__namespaces_item in enumerate(data__namespaces):
                    validate___definitions_namespace(data__namespaces_item, custom_formats, (name_prefix or 'data') + '.namespaces[{data__namespaces_x}]'.format(**locals()))
        if 'uidMappings' in data_keys:
            data_keys.remove('uidMappings')
            data__uidMappings = data['uidMappings']
            validate___definitions_idmappinglist(data__uidMappings, custom_formats, (name_prefix or 'data') + '.uidMappings')
        if 'gidMappings' in data_keys:
            data_keys.remove('gidMappings')
            data__gidMappings = data['gidMappings']
            validate___definitions_idmappinglist(data__gidMappings, custom_formats, (name_prefix or 'data') + '.gidMappings')
        if 'timeOffsets' in data_keys:
            data_keys.remove('timeOffsets')
            data__timeOffsets = data['timeOffsets']
            if not isinstance(data__timeOffsets, dict):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.timeOffsets must be object', value=data__timeOffsets, name='' + (name_prefix or 'data') + '.timeOffsets', rule='type')
            data__timeOffsets_is_dict = isinstance(data__timeOffsets, dict)
            if data__timeOffsets_is_dict:
                data__timeOffsets_keys = set(data__timeOffsets.keys())
                if 'boottime' in data__timeOffsets_keys:
                    data__timeOffsets_keys.remove('boottime')
                    data__timeOffsets__boottime = data__timeOffsets['boottime']
                    validate___definitions_timeoffset(data__timeOffsets__boottime, custom_formats, (name_prefix or 'data') + '.timeOffsets.boottime')
                if 'monotonic' in data__timeOffsets_keys:
                    data__timeOffsets_keys.remove('monotonic')
                    data__timeOffsets__monotonic = data__timeOffsets['monotonic']
                    validate___definitions_timeoffset(data__timeOffsets__monotonic, custom_formats, (name_prefix or 'data') + '.timeOffsets.monotonic')
                for data__timeOffsets_key in data__timeOffsets_keys:
                    if data__timeOffsets_key not in ['boottime', 'monotonic']:
                        data__timeOffsets_value = data__timeOffsets.get(data__timeOffsets_key)
                        validate___definitions_timeoffset(data__timeOffsets_value, custom_formats, (name_prefix or 'data') + '.timeOffsets.{data__timeOffsets_key}'.format(**locals()))
        if 'devices' in data_keys:
            data_keys.remove('devices')
            data__devices = data['devices']
            if not isinstance(data__devices, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.devices must be array', value=data__devices, name='' + (name_prefix or 'data') + '.devices', rule='type')
            data__devices_is_list = isinstance(data__devices, (list, tuple))
            if data__devices_is_list:
                data__devices_len = len(data__devices)
                for data__devices_x, data__devices_item in enumerate(data__devices):
                    validate___definitions_device(data__devices_item, custom_formats, (name_prefix or 'data') + '.devices[{data__devices_x}]'.format(**locals()))
        if 'cgroupsPath' in data_keys:
            data_keys.remove('cgroupsPath')
            data__cgroupsPath = data['cgroupsPath']
            if not isinstance(data__cgroupsPath, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.cgroupsPath must be string', value=data__cgroupsPath, name='' + (name_prefix or 'data') + '.cgroupsPath', rule='type')
        if 'resources' in data_keys:
            data_keys.remove('resources')
            data__resources = data['resources']
            validate___definitions_resources(data__resources, custom_formats, (name_prefix or 'data') + '.resources')
        if 'rootfsPropagation' in data_keys:
            data_keys.remove('rootfsPropagation')
            data__rootfsPropagation = data['rootfsPropagation']
            if not isinstance(data__rootfsPropagation, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.rootfsPropagation must be string', value=data__rootfsPropagation, name='' + (name_prefix or 'data') + '.rootfsPropagation', rule='type')
            if not (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'private' or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'shared') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'slave') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'unbindable') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'rprivate') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'rshared') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'rslave') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == 'runbindable') or (isinstance(data__rootfsPropagation, str) and data__rootfsPropagation == '')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".rootfsPropagation must be one of ['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable', '']", value=data__rootfsPropagation, name='' + (name_prefix or 'data') + '.rootfsPropagation', rule='enum')
        if 'seccomp' in data_keys:
            data_keys.remove('seccomp')
            data__seccomp = data['seccomp']
            validate___definitions_seccomp(data__seccomp, custom_formats, (name_prefix or 'data') + '.seccomp')
        if 'sysctl' in data_keys:
            data_keys.remove('sysctl')
            data__sysctl = data['sysctl']
            validate___definitions_stringmap(data__sysctl, custom_formats, (name_prefix or 'data') + '.sysctl')
        if 'maskedPaths' in data_keys:
            data_keys.remove('maskedPaths')
            data__maskedPaths = data['maskedPaths']
            validate___definitions_stringlist(data__maskedPaths, custom_formats, (name_prefix or 'data') + '.maskedPaths')
        if 'readonlyPaths' in data_keys:
            data_keys.remove('readonlyPaths')
            data__readonlyPaths = data['readonlyPaths']
            validate___definitions_stringlist(data__readonlyPaths, custom_formats, (name_prefix or 'data') + '.readonlyPaths')
        if 'mountLabel' in data_keys:
            data_keys.remove('mountLabel')
            data__mountLabel = data['mountLabel']
            if not isinstance(data__mountLabel, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.mountLabel must be string', value=data__mountLabel, name='' + (name_prefix or 'data') + '.mountLabel', rule='type')
        if 'intelRdt' in data_keys:
            data_keys.remove('intelRdt')
            data__intelRdt = data['intelRdt']
            validate___definitions_intelrdt(data__intelRdt, custom_formats, (name_prefix or 'data') + '.intelRdt')
        if 'personality' in data_keys:
            data_keys.remove('personality')
            data__personality = data['personality']
            validate___definitions_personality(data__personality, custom_formats, (name_prefix or 'data') + '.personality')
        if 'netDevices' in data_keys:
            data_keys.remove('netDevices')
            data__netDevices = data['netDevices']
            if not isinstance(data__netDevices, dict):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.netDevices must be object', value=data__netDevices, name='' + (name_prefix or 'data') + '.netDevices', rule='type')
            data__netDevices_is_dict = isinstance(data__netDevices, dict)
            if data__netDevices_is_dict:
                data__netDevices_keys = set(data__netDevices.keys())
                for data__netDevices_key in data__netDevices_keys:
                    if data__netDevices_key not in []:
                        data__netDevices_value = data__netDevices.get(data__netDevices_key)
                        validate___definitions_netdevice(data__netDevices_value, custom_formats, (name_prefix or 'data') + '.netDevices.{data__netDevices_key}'.format(**locals()))
    return data

def validate___definitions_netdevice(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'name' in data_keys:
            data_keys.remove('name')
            data__name = data['name']
            if not isinstance(data__name, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.name must be string', value=data__name, name='' + (name_prefix or 'data') + '.name', rule='type')
    return data

def validate___definitions_personality(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['domain']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'domain' in data_keys:
            data_keys.remove('domain')
            data__domain = data['domain']
            if not isinstance(data__domain, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.domain must be string', value=data__domain, name='' + (name_prefix or 'data') + '.domain', rule='type')
            if not (isinstance(data__domain, str) and data__domain == 'LINUX' or (isinstance(data__domain, str) and data__domain == 'LINUX32')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".domain must be one of ['LINUX', 'LINUX32']", value=data__domain, name='' + (name_prefix or 'data') + '.domain', rule='enum')
        if 'flags' in data_keys:
            data_keys.remove('flags')
            data__flags = data['flags']
            validate___definitions_stringlist(data__flags, custom_formats, (name_prefix or 'data') + '.flags')
    return data

def validate___definitions_intelrdt(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'closID' in data_keys:
            data_keys.remove('closID')
            data__closID = data['closID']
            if not isinstance(data__closID, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.closID must be string', value=data__closID, name='' + (name_prefix or 'data') + '.closID', rule='type')
        if 'l3CacheSchema' in data_keys:
            data_keys.remove('l3CacheSchema')
            data__l3CacheSchema = data['l3CacheSchema']
            if not isinstance(data__l3CacheSchema, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.l3CacheSchema must be string', value=data__l3CacheSchema, name='' + (name_prefix or 'data') + '.l3CacheSchema', rule='type')
        if 'memBwSchema' in data_keys:
            data_keys.remove('memBwSchema')
            data__memBwSchema = data['memBwSchema']
            if not isinstance(data__memBwSchema, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.memBwSchema must be string', value=data__memBwSchema, name='' + (name_prefix or 'data') + '.memBwSchema', rule='type')
        if 'enableCMT' in data_keys:
            data_keys.remove('enableCMT')
            data__enableCMT = data['enableCMT']
            if not isinstance(data__enableCMT, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.enableCMT must be boolean', value=data__enableCMT, name='' + (name_prefix or 'data') + '.enableCMT', rule='type')
        if 'enableMBM' in data_keys:
            data_keys.remove('enableMBM')
            data__enableMBM = data['enableMBM']
            if not isinstance(data__enableMBM, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.enableMBM must be boolean', value=data__enableMBM, name='' + (name_prefix or 'data') + '.enableMBM', rule='type')
    return data

def validate___definitions_stringlist(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be array', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            if not isinstance(data_item, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '[{data_x}]'.format(**locals()) + ' must be string', value=data_item, name='' + (name_prefix or 'data') + '[{data_x}]'.format(**locals()) + '', rule='type')
    return data

def validate___definitions_stringmap(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        for data_key in data_keys:
            if data_key not in []:
                data_value = data.get(data_key)
                if not isinstance(data_value, str):
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.{data_key}'.format(**locals()) + ' must be string', value=data_value, name='' + (name_prefix or 'data') + '.{data_key}'.format(**locals()) + '', rule='type')
    return data

def validate___definitions_seccomp(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['defaultAction']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'defaultAction' in data_keys:
            data_keys.remove('defaultAction')
            data__defaultAction = data['defaultAction']
            validate___definitions_seccompaction(data__defaultAction, custom_formats, (name_prefix or 'data') + '.defaultAction')
        if 'defaultErrnoRet' in data_keys:
            data_keys.remove('defaultErrnoRet')
            data__defaultErrnoRet = data['defaultErrnoRet']
            validate___definitions_uint32(data__defaultErrnoRet, custom_formats, (name_prefix or 'data') + '.defaultErrnoRet')
        if 'architectures' in data_keys:
            data_keys.remove('architectures')
            data__architectures = data['architectures']
            if not isinstance(data__architectures, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.architectures must be array', value=data__architectures, name='' + (name_prefix or 'data') + '.architectures', rule='type')
            data__architectures_is_list = isinstance(data__architectures, (list, tuple))
            if data__architectures_is_list:
                data__architectures_len = len(data__architectures)
                for data__architectures_x, data__architectures_item in enumerate(data__architectures):
                    if not isinstance(data__architectures_item, str):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.architectures[{data__architectures_x}]'.format(**locals()) + ' must be string', value=data__architectures_item, name='' + (name_prefix or 'data') + '.architectures[{data__architectures_x}]'.format(**locals()) + '', rule='type')
                    if not (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_X86' or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_X86_64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_X32') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_ARM') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_AARCH64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_MIPS') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_MIPS64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_MIPS64N32') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_MIPSEL') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_MIPSEL64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_MIPSEL64N32') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_PPC') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_PPC64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_PPC64LE') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_S390') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_S390X') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_PARISC') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_PARISC64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_RISCV64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_LOONGARCH64') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_M68K') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_SH') or (isinstance(data__architectures_item, str) and data__architectures_item == 'SCMP_ARCH_SHEB')):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.architectures[{data__architectures_x}]'.format(**locals()) + " must be one of ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB']", value=data__architectures_item, name='' + (name_prefix or 'data') + '.architectures[{data__architectures_x}]'.format(**locals()) + '', rule='enum')
        if 'flags' in data_keys:
            data_keys.remove('flags')
            data__flags = data['flags']
            if not isinstance(data__flags, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.flags must be array', value=data__flags, name='' + (name_prefix or 'data') + '.flags', rule='type')
            data__flags_is_list = isinstance(data__flags, (list, tuple))
            if data__flags_is_list:
                data__flags_len = len(data__flags)
                for data__flags_x, data__flags_item in enumerate(data__flags):
                    if not isinstance(data__flags_item, str):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + ' must be string', value=data__flags_item, name='' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + '', rule='type')
                    if not (isinstance(data__flags_item, str) and data__flags_item == 'SECCOMP_FILTER_FLAG_TSYNC' or (isinstance(data__flags_item, str) and data__flags_item == 'SECCOMP_FILTER_FLAG_LOG') or (isinstance(data__flags_item, str) and data__flags_item == 'SECCOMP_FILTER_FLAG_SPEC_ALLOW') or (isinstance(data__flags_item, str) and data__flags_item == 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV')):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + " must be one of ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']", value=data__flags_item, name='' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + '', rule='enum')
        if 'listenerPath' in data_keys:
            data_keys.remove('listenerPath')
            data__listenerPath = data['listenerPath']
            if not isinstance(data__listenerPath, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.listenerPath must be string', value=data__listenerPath, name='' + (name_prefix or 'data') + '.listenerPath', rule='type')
        if 'listenerMetadata' in data_keys:
            data_keys.remove('listenerMetadata')
            data__listenerMetadata = data['listenerMetadata']
            if not isinstance(data__listenerMetadata, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.listenerMetadata must be string', value=data__listenerMetadata, name='' + (name_prefix or 'data') + '.listenerMetadata', rule='type')
        if 'syscalls' in data_keys:
            data_keys.remove('syscalls')
            data__syscalls = data['syscalls']
            if not isinstance(data__syscalls, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.syscalls must be array', value=data__syscalls, name='' + (name_prefix or 'data') + '.syscalls', rule='type')
            data__syscalls_is_list = isinstance(data__syscalls, (list, tuple))
            if data__syscalls_is_list:
                data__syscalls_len = len(data__syscalls)
                for data__syscalls_x, data__syscalls_item in enumerate(data__syscalls):
                    validate___definitions_syscall(data__syscalls_item, custom_formats, (name_prefix or 'data') + '.syscalls[{data__syscalls_x}]'.format(**locals()))
    return data

def validate___definitions_syscall(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['names', 'action']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'names' in data_keys:
            data_keys.remove('names')
            data__names = data['names']
            if not isinstance(data__names, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.names must be array', value=data__names, name='' + (name_prefix or 'data') + '.names', rule='type')
            data__names_is_list = isinstance(data__names, (list, tuple))
            if data__names_is_list:
                data__names_len = len(data__names)
                if data__names_len < 1:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.names must contain at least 1 items', value=data__names, name='' + (name_prefix or 'data') + '.names', rule='minItems')
                for data__names_x, data__names_item in enumerate(data__names):
                    if not isinstance(data__names_item, str):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.names[{data__names_x}]'.format(**locals()) + ' must be string', value=data__names_item, name='' + (name_prefix or 'data') + '.names[{data__names_x}]'.format(**locals()) + '', rule='type')
        if 'action' in data_keys:
            data_keys.remove('action')
            data__action = data['action']
            validate___definitions_seccompaction(data__action, custom_formats, (name_prefix or 'data') + '.action')
        if 'errnoRet' in data_keys:
            data_keys.remove('errnoRet')
            data__errnoRet = data['errnoRet']
            validate___definitions_uint32(data__errnoRet, custom_formats, (name_prefix or 'data') + '.errnoRet')
        if 'args' in data_keys:
            data_keys.remove('args')
            data__args = data['args']
            if not isinstance(data__args, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.args must be array', value=data__args, name='' + (name_prefix or 'data') + '.args', rule='type')
            data__args_is_list = isinstance(data__args, (list, tuple))
            if data__args_is_list:
                data__args_len = len(data__args)
                for data__args_x, data__args_item in enumerate(data__args):
                    validate___definitions_syscallarg(data__args_item, custom_formats, (name_prefix or 'data') + '.args[{data__args_x}]'.format(**locals()))
    return data

def validate___definitions_syscallarg(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['index', 'value', 'op']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'index' in data_keys:
            data_keys.remove('index')
            data__index = data['index']
            validate___definitions_uint32(data__index, custom_formats, (name_prefix or 'data') + '.index')
        if 'value' in data_keys:
            data_keys.remove('value')
            data__value = data['value']
            validate___definitions_uint64(data__value, custom_formats, (name_prefix or 'data') + '.value')
        if 'valueTwo' in data_keys:
            data_keys.remove('valueTwo')
            data__valueTwo = data['valueTwo']
            validate___definitions_uint64(data__valueTwo, custom_formats, (name_prefix or 'data') + '.valueTwo')
        if 'op' in data_keys:
            data_keys.remove('op')
            data__op = data['op']
            if not isinstance(data__op, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.op must be string', value=data__op, name='' + (name_prefix or 'data') + '.op', rule='type')
            if not (isinstance(data__op, str) and data__op == 'SCMP_CMP_NE' or (isinstance(data__op, str) and data__op == 'SCMP_CMP_LT') or (isinstance(data__op, str) and data__op == 'SCMP_CMP_LE') or (isinstance(data__op, str) and data__op == 'SCMP_CMP_EQ') or (isinstance(data__op, str) and data__op == 'SCMP_CMP_GE') or (isinstance(data__op, str) and data__op == 'SCMP_CMP_GT') or (isinstance(data__op, str) and data__op == 'SCMP_CMP_MASKED_EQ')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".op must be one of ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']", value=data__op, name='' + (name_prefix or 'data') + '.op', rule='enum')
    return data

def validate___definitions_uint64(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, int) and (not (isinstance(data, float) and data.is_integer())) or isinstance(data, bool):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be integer', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if isinstance(data, (int, float)) and (not isinstance(data, bool)):
        if data < 0:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be bigger than or equal to 0', value=data, name='' + (name_prefix or 'data') + '', rule='minimum')
        if data > 18446744073709551615:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be smaller than or equal to 18446744073709551615', value=data, name='' + (name_prefix or 'data') + '', rule='maximum')
    return data

def validate___definitions_uint32(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, int) and (not (isinstance(data, float) and data.is_integer())) or isinstance(data, bool):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be integer', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if isinstance(data, (int, float)) and (not isinstance(data, bool)):
        if data < 0:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be bigger than or equal to 0', value=data, name='' + (name_prefix or 'data') + '', rule='minimum')
        if data > 4294967295:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be smaller than or equal to 4294967295', value=data, name='' + (name_prefix or 'data') + '', rule='maximum')
    return data

def validate___definitions_seccompaction(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, str):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be string', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if not (isinstance(data, str) and data == 'SCMP_ACT_KILL' or (isinstance(data, str) and data == 'SCMP_ACT_KILL_PROCESS') or (isinstance(data, str) and data == 'SCMP_ACT_KILL_THREAD') or (isinstance(data, str) and data == 'SCMP_ACT_TRAP') or (isinstance(data, str) and data == 'SCMP_ACT_ERRNO') or (isinstance(data, str) and data == 'SCMP_ACT_TRACE') or (isinstance(data, str) and data == 'SCMP_ACT_ALLOW') or (isinstance(data, str) and data == 'SCMP_ACT_LOG') or (isinstance(data, str) and data == 'SCMP_ACT_NOTIFY')):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + " must be one of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY']", value=data, name='' + (name_prefix or 'data') + '', rule='enum')
    return data

def validate___definitions_resources(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'devices' in data_keys:
            data_keys.remove('devices')
            data__devices = data['devices']
            if not isinstance(data__devices, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.devices must be array', value=data__devices, name='' + (name_prefix or 'data') + '.devices', rule='type')
            data__devices_is_list = isinstance(data__devices, (list, tuple))
            if data__devices_is_list:
                data__devices_len = len(data__devices)
                for data__devices_x, data__devices_item in enumerate(data__devices):
                    validate___definitions_devicerule(data__devices_item, custom_formats, (name_prefix or 'data') + '.devices[{data__devices_x}]'.format(**locals()))
        if 'memory' in data_keys:
            data_keys.remove('memory')
            data__memory = data['memory']
            validate___definitions_memory(data__memory, custom_formats, (name_prefix or 'data') + '.memory')
        if 'cpu' in data_keys:
            data_keys.remove('cpu')
            data__cpu = data['cpu']
            validate___definitions_cpu(data__cpu, custom_formats, (name_prefix or 'data') + '.cpu')
        if 'pids' in data_keys:
            data_keys.remove('pids')
            data__pids = data['pids']
            if not isinstance(data__pids, dict):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.pids must be object', value=data__pids, name='' + (name_prefix or 'data') + '.pids', rule='type')
            data__pids_is_dict = isinstance(data__pids, dict)
            if data__pids_is_dict:
                data__pids__missing_keys = set(['limit']) - data__pids.keys()
                if data__pids__missing_keys:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.pids must contain ' + (str(sorted(data__pids__missing_keys)) + ' properties'), value=data__pids, name='' + (name_prefix or 'data') + '.pids', rule='required')
                data__pids_keys = set(data__pids.keys())
                if 'limit' in data__pids_keys:
                    data__pids_keys.remove('limit')
                    data__pids__limit = data__pids['limit']
                    validate___definitions_int64(data__pids__limit, custom_formats, (name_prefix or 'data') + '.pids.limit')
        if 'blockIO' in data_keys:
            data_keys.remove('blockIO')
            data__blockIO = data['blockIO']
            validate___definitions_blockio(data__blockIO, custom_formats, (name_prefix or 'data') + '.blockIO')
        if 'hugepageLimits' in data_keys:
            data_keys.remove('hugepageLimits')
            data__hugepageLimits = data['hugepageLimits']
            if not isinstance(data__hugepageLimits, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.hugepageLimits must be array', value=data__hugepageLimits, name='' + (name_prefix or 'data') + '.hugepageLimits', rule='type')
            data__hugepageLimits_is_list = isinstance(data__hugepageLimits, (list, tuple))
            if data__hugepageLimits_is_list:
                data__hugepageLimits_len = len(data__hugepageLimits)
                for data__hugepageLimits_x, data__hugepageLimits_item in enumerate(data__hugepageLimits):
                    validate___definitions_hugepagelimit(data__hugepageLimits_item, custom_formats, (name_prefix or 'data') + '.hugepageLimits[{data__hugepageLimits_x}]'.format(**locals()))
        if 'network' in data_keys:
            data_keys.remove('network')
            data__network = data['network']
            validate___definitions_network(data__network, custom_formats, (name_prefix or 'data') + '.network')
        if 'rdma' in data_keys:
            data_keys.remove('rdma')
            data__rdma = data['rdma']
            if not isinstance(data__rdma, dict):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.rdma must be object', value=data__rdma, name='' + (name_prefix or 'data') + '.rdma', rule='type')
            data__rdma_is_dict = isinstance(data__rdma, dict)
            if data__rdma_is_dict:
                data__rdma_keys = set(data__rdma.keys())
                for data__rdma_key in data__rdma_keys:
                    if data__rdma_key not in []:
                        data__rdma_value = data__rdma.get(data__rdma_key)
                        validate___definitions_rdma(data__rdma_value, custom_formats, (name_prefix or 'data') + '.rdma.{data__rdma_key}'.format(**locals()))
        if 'unified' in data_keys:
            data_keys.remove('unified')
            data__unified = data['unified']
            validate___definitions_stringmap(data__unified, custom_formats, (name_prefix or 'data') + '.unified')
    return data

def validate___definitions_rdma(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'hcaHandles' in data_keys:
            data_keys.remove('hcaHandles')
            data__hcaHandles = data['hcaHandles']
            validate___definitions_uint32(data__hcaHandles, custom_formats, (name_prefix or 'data') + '.hcaHandles')
        if 'hcaObjects' in data_keys:
            data_keys.remove('hcaObjects')
            data__hcaObjects = data['hcaObjects']
            validate___definitions_uint32(data__hcaObjects, custom_formats, (name_prefix or 'data') + '.hcaObjects')
    return data

def validate___definitions_network(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'classID' in data_keys:
            data_keys.remove('classID')
            data__classID = data['classID']
            validate___definitions_uint32(data__classID, custom_formats, (name_prefix or 'data') + '.classID')
        if 'priorities' in data_keys:
            data_keys.remove('priorities')
            data__priorities = data['priorities']
            if not isinstance(data__priorities, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.priorities must be array', value=data__priorities, name='' + (name_prefix or 'data') + '.priorities', rule='type')
            data__priorities_is_list = isinstance(data__priorities, (list, tuple))
            if data__priorities_is_list:
                data__priorities_len = len(data__priorities)
                for data__priorities_x, data__priorities_item in enumerate(data__priorities):
                    if not isinstance(data__priorities_item, dict):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.priorities[{data__priorities_x}]'.format(**locals()) + ' must be object', value=data__priorities_item, name='' + (name_prefix or 'data') + '.priorities[{data__priorities_x}]'.format(**locals()) + '', rule='type')
                    data__priorities_item_is_dict = isinstance(data__priorities_item, dict)
                    if data__priorities_item_is_dict:
                        data__priorities_item__missing_keys = set(['name', 'priority']) - data__priorities_item.keys()
                        if data__priorities_item__missing_keys:
                            raise JsonSchemaValueException('' + (name_prefix or 'data') + '.priorities[{data__priorities_x}]'.format(**locals()) + ' must contain ' + (str(sorted(data__priorities_item__missing_keys)) + ' properties'), value=data__priorities_item, name='' + (name_prefix or 'data') + '.priorities[{data__priorities_x}]'.format(**locals()) + '', rule='required')
                        data__priorities_item_keys = set(data__priorities_item.keys())
                        if 'name' in data__priorities_item_keys:
                            data__priorities_item_keys.remove('name')
                            data__priorities_item__name = data__priorities_item['name']
                            if not isinstance(data__priorities_item__name, str):
                                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.priorities[{data__priorities_x}].name'.format(**locals()) + ' must be string', value=data__priorities_item__name, name='' + (name_prefix or 'data') + '.priorities[{data__priorities_x}].name'.format(**locals()) + '', rule='type')
                        if 'priority' in data__priorities_item_keys:
                            data__priorities_item_keys.remove('priority')
                            data__priorities_item__priority = data__priorities_item['priority']
                            validate___definitions_uint32(data__priorities_item__priority, custom_formats, (name_prefix or 'data') + '.priorities[{data__priorities_x}].priority'.format(**locals()))
    return data

def validate___definitions_hugepagelimit(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['pageSize', 'limit']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'pageSize' in data_keys:
            data_keys.remove('pageSize')
            data__pageSize = data['pageSize']
            if not isinstance(data__pageSize, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.pageSize must be string', value=data__pageSize, name='' + (name_prefix or 'data') + '.pageSize', rule='type')
        if 'limit' in data_keys:
            data_keys.remove('limit')
            data__limit = data['limit']
            validate___definitions_uint64(data__limit, custom_formats, (name_prefix or 'data') + '.limit')
    return data

def validate___definitions_blockio(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'weight' in data_keys:
            data_keys.remove('weight')
            data__weight = data['weight']
            validate___definitions_uint16(data__weight, custom_formats, (name_prefix or 'data') + '.weight')
        if 'leafWeight' in data_keys:
            data_keys.remove('leafWeight')
            data__leafWeight = data['leafWeight']
            validate___definitions_uint16(data__leafWeight, custom_formats, (name_prefix or 'data') + '.leafWeight')
        if 'weightDevice' in data_keys:
            data_keys.remove('weightDevice')
            data__weightDevice = data['weightDevice']
            if not isinstance(data__weightDevice, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.weightDevice must be array', value=data__weightDevice, name='' + (name_prefix or 'data') + '.weightDevice', rule='type')
            data__weightDevice_is_list = isinstance(data__weightDevice, (list, tuple))
            if data__weightDevice_is_list:
                data__weightDevice_len = len(data__weightDevice)
                for data__weightDevice_x, data__weightDevice_item in enumerate(data__weightDevice):
                    validate___definitions_weightdevice(data__weightDevice_item, custom_formats, (name_prefix or 'data') + '.weightDevice[{data__weightDevice_x}]'.format(**locals()))
        if 'throttleReadBpsDevice' in data_keys:
            data_keys.remove('throttleReadBpsDevice')
            data__throttleReadBpsDevice = data['throttleReadBpsDevice']
            validate___definitions_throttlelist(data__throttleReadBpsDevice, custom_formats, (name_prefix or 'data') + '.throttleReadBpsDevice')
        if 'throttleWriteBpsDevice' in data_keys:
            data_keys.remove('throttleWriteBpsDevice')
            data__throttleWriteBpsDevice = data['throttleWriteBpsDevice']
            validate___definitions_throttlelist(data__throttleWriteBpsDevice, custom_formats, (name_prefix or 'data') + '.throttleWriteBpsDevice')
        if 'throttleReadIOPSDevice' in data_keys:
            data_keys.remove('throttleReadIOPSDevice')
            data__throttleReadIOPSDevice = data['throttleReadIOPSDevice']
            validate___definitions_throttlelist(data__throttleReadIOPSDevice, custom_formats, (name_prefix or 'data') + '.throttleReadIOPSDevice')
        if 'throttleWriteIOPSDevice' in data_keys:
            data_keys.remove('throttleWriteIOPSDevice')
            data__throttleWriteIOPSDevice = data['throttleWriteIOPSDevice']
            validate___definitions_throttlelist(data__throttleWriteIOPSDevice, custom_formats, (name_prefix or 'data') + '.throttleWriteIOPSDevice')
    return data

def validate___definitions_throttlelist(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be array', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            validate___definitions_throttledevice(data_item, custom_formats, (name_prefix or 'data') + '[{data_x}]'.format(**locals()))
    return data

def validate___definitions_throttledevice(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['major', 'minor', 'rate']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'major' in data_keys:
            data_keys.remove('major')
            data__major = data['major']
            validate___definitions_int64(data__major, custom_formats, (name_prefix or 'data') + '.major')
        if 'minor' in data_keys:
            data_keys.remove('minor')
            data__minor = data['minor']
            validate___definitions_int64(data__minor, custom_formats, (name_prefix or 'data') + '.minor')
        if 'rate' in data_keys:
            data_keys.remove('rate')
            data__rate = data['rate']
            validate___definitions_uint64(data__rate, custom_formats, (name_prefix or 'data') + '.rate')
    return data

def validate___definitions_weightdevice(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['major', 'minor']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'major' in data_keys:
            data_keys.remove('major')
            data__major = data['major']
            validate___definitions_int64(data__major, custom_formats, (name_prefix or 'data') + '.major')
        if 'minor' in data_keys:
            data_keys.remove('minor')
            data__minor = data['minor']
            validate___definitions_int64(data__minor, custom_formats, (name_prefix or 'data') + '.minor')
        if 'weight' in data_keys:
            data_keys.remove('weight')
            data__weight = data['weight']
            validate___definitions_uint16(data__weight, custom_formats, (name_prefix or 'data') + '.weight')
        if 'leafWeight' in data_keys:
            data_keys.remove('leafWeight')
            data__leafWeight = data['leafWeight']
            validate___definitions_uint16(data__leafWeight, custom_formats, (name_prefix or 'data') + '.leafWeight')
    return data

def validate___definitions_uint16(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, int) and (not (isinstance(data, float) and data.is_integer())) or isinstance(data, bool):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be integer', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if isinstance(data, (int, float)) and (not isinstance(data, bool)):
        if data < 0:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be bigger than or equal to 0', value=data, name='' + (name_prefix or 'data') + '', rule='minimum')
        if data > 65535:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be smaller than or equal to 65535', value=data, name='' + (name_prefix or 'data') + '', rule='maximum')
    return data

def validate___definitions_int64(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, int) and (not (isinstance(data, float) and data.is_integer())) or isinstance(data, bool):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be integer', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if isinstance(data, (int, float)) and (not isinstance(data, bool)):
        if data < -9223372036854775808:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be bigger than or equal to -9223372036854775808', value=data, name='' + (name_prefix or 'data') + '', rule='minimum')
        if data > 9223372036854775807:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be smaller than or equal to 9223372036854775807', value=data, name='' + (name_prefix or 'data') + '', rule='maximum')
    return data

def validate___definitions_cpu(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'shares' in data_keys:
            data_keys.remove('shares')
            data__shares = data['shares']
            validate___definitions_uint64(data__shares, custom_formats, (name_prefix or 'data') + '.shares')
        if 'quota' in data_keys:
            data_keys.remove('quota')
            data__quota = data['quota']
            validate___definitions_int64(data__quota, custom_formats, (name_prefix or 'data') + '.quota')
        if 'burst' in data_keys:
            data_keys.remove('burst')
            data__burst = data['burst']
            validate___definitions_uint64(data__burst, custom_formats, (name_prefix or 'data') + '.burst')
        if 'period' in data_keys:
            data_keys.remove('period')
            data__period = data['period']
            validate___definitions_uint64(data__period, custom_formats, (name_prefix or 'data') + '.period')
        if 'realtimeRuntime' in data_keys:
            data_keys.remove('realtimeRuntime')
            data__realtimeRuntime = data['realtimeRuntime']
            validate___definitions_int64(data__realtimeRuntime, custom_formats, (name_prefix or 'data') + '.realtimeRuntime')
        if 'realtimePeriod' in data_keys:
            data_keys.remove('realtimePeriod')
            data__realtimePeriod = data['realtimePeriod']
            validate___definitions_uint64(data__realtimePeriod, custom_formats, (name_prefix or 'data') + '.realtimePeriod')
        if 'cpus' in data_keys:
            data_keys.remove('cpus')
            data__cpus = data['cpus']
            if not isinstance(data__cpus, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.cpus must be string', value=data__cpus, name='' + (name_prefix or 'data') + '.cpus', rule='type')
        if 'mems' in data_keys:
            data_keys.remove('mems')
            data__mems = data['mems']
            if not isinstance(data__mems, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.mems must be string', value=data__mems, name='' + (name_prefix or 'data') + '.mems', rule='type')
        if 'idle' in data_keys:
            data_keys.remove('idle')
            data__idle = data['idle']
            validate___definitions_int64(data__idle, custom_formats, (name_prefix or 'data') + '.idle')
    return data

def validate___definitions_memory(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'limit' in data_keys:
            data_keys.remove('limit')
            data__limit = data['limit']
            validate___definitions_int64(data__limit, custom_formats, (name_prefix or 'data') + '.limit')
        if 'reservation' in data_keys:
            data_keys.remove('reservation')
            data__reservation = data['reservation']
            validate___definitions_int64(data__reservation, custom_formats, (name_prefix or 'data') + '.reservation')
        if 'swap' in data_keys:
            data_keys.remove('swap')
            data__swap = data['swap']
            validate___definitions_int64(data__swap, custom_formats, (name_prefix or 'data') + '.swap')
        if 'kernel' in data_keys:
            data_keys.remove('kernel')
            data__kernel = data['kernel']
            validate___definitions_int64(data__kernel, custom_formats, (name_prefix or 'data') + '.kernel')
        if 'kernelTCP' in data_keys:
            data_keys.remove('kernelTCP')
            data__kernelTCP = data['kernelTCP']
            validate___definitions_int64(data__kernelTCP, custom_formats, (name_prefix or 'data') + '.kernelTCP')
        if 'swappiness' in data_keys:
            data_keys.remove('swappiness')
            data__swappiness = data['swappiness']
            validate___definitions_uint64(data__swappiness, custom_formats, (name_prefix or 'data') + '.swappiness')
        if 'disableOOMKiller' in data_keys:
            data_keys.remove('disableOOMKiller')
            data__disableOOMKiller = data['disableOOMKiller']
            if not isinstance(data__disableOOMKiller, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.disableOOMKiller must be boolean', value=data__disableOOMKiller, name='' + (name_prefix or 'data') + '.disableOOMKiller', rule='type')
        if 'useHierarchy' in data_keys:
            data_keys.remove('useHierarchy')
            data__useHierarchy = data['useHierarchy']
            if not isinstance(data__useHierarchy, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.useHierarchy must be boolean', value=data__useHierarchy, name='' + (name_prefix or 'data') + '.useHierarchy', rule='type')
        if 'checkBeforeUpdate' in data_keys:
            data_keys.remove('checkBeforeUpdate')
            data__checkBeforeUpdate = data['checkBeforeUpdate']
            if not isinstance(data__checkBeforeUpdate, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.checkBeforeUpdate must be boolean', value=data__checkBeforeUpdate, name='' + (name_prefix or 'data') + '.checkBeforeUpdate', rule='type')
    return data

def validate___definitions_devicerule(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['allow']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'allow' in data_keys:
            data_keys.remove('allow')
            data__allow = data['allow']
            if not isinstance(data__allow, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.allow must be boolean', value=data__allow, name='' + (name_prefix or 'data') + '.allow', rule='type')
        if 'type' in data_keys:
            data_keys.remove('type')
            data__type = data['type']
            if not isinstance(data__type, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.type must be string', value=data__type, name='' + (name_prefix or 'data') + '.type', rule='type')
        if 'major' in data_keys:
            data_keys.remove('major')
            data__major = data['major']
            validate___definitions_int64(data__major, custom_formats, (name_prefix or 'data') + '.major')
        if 'minor' in data_keys:
            data_keys.remove('minor')
            data__minor = data['minor']
            validate___definitions_int64(data__minor, custom_formats, (name_prefix or 'data') + '.minor')
        if 'access' in data_keys:
            data_keys.remove('access')
            data__access = data['access']
            if not isinstance(data__access, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.access must be string', value=data__access, name='' + (name_prefix or 'data') + '.access', rule='type')
    return data

def validate___definitions_device(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'path']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'type' in data_keys:
            data_keys.remove('type')
            data__type = data['type']
            if not isinstance(data__type, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.type must be string', value=data__type, name='' + (name_prefix or 'data') + '.type', rule='type')
            if not (isinstance(data__type, str) and data__type == 'c' or (isinstance(data__type, str) and data__type == 'b') or (isinstance(data__type, str) and data__type == 'u') or (isinstance(data__type, str) and data__type == 'p')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".type must be one of ['c', 'b', 'u', 'p']", value=data__type, name='' + (name_prefix or 'data') + '.type', rule='enum')
        if 'path' in data_keys:
            data_keys.remove('path')
            data__path = data['path']
            if not isinstance(data__path, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.path must be string', value=data__path, name='' + (name_prefix or 'data') + '.path', rule='type')
        if 'major' in data_keys:
            data_keys.remove('major')
            data__major = data['major']
            validate___definitions_int64(data__major, custom_formats, (name_prefix or 'data') + '.major')
        if 'minor' in data_keys:
            data_keys.remove('minor')
            data__minor = data['minor']
            validate___definitions_int64(data__minor, custom_formats, (name_prefix or 'data') + '.minor')
        if 'fileMode' in data_keys:
            data_keys.remove('fileMode')
            data__fileMode = data['fileMode']
            validate___definitions_uint32(data__fileMode, custom_formats, (name_prefix or 'data') + '.fileMode')
        if 'uid' in data_keys:
            data_keys.remove('uid')
            data__uid = data['uid']
            validate___definitions_uint32(data__uid, custom_formats, (name_prefix or 'data') + '.uid')
        if 'gid' in data_keys:
            data_keys.remove('gid')
            data__gid = data['gid']
            validate___definitions_uint32(data__gid, custom_formats, (name_prefix or 'data') + '.gid')
    return data

def validate___definitions_timeoffset(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'secs' in data_keys:
            data_keys.remove('secs')
            data__secs = data['secs']
            validate___definitions_int64(data__secs, custom_formats, (name_prefix or 'data') + '.secs')
        if 'nanosecs' in data_keys:
            data_keys.remove('nanosecs')
            data__nanosecs = data['nanosecs']
            validate___definitions_uint32(data__nanosecs, custom_formats, (name_prefix or 'data') + '.nanosecs')
    return data

def validate___definitions_idmappinglist(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be array', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            validate___definitions_idmapping(data_item, custom_formats, (name_prefix or 'data') + '[{data_x}]'.format(**locals()))
    return data

def validate___definitions_idmapping(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['containerID', 'hostID', 'size']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'containerID' in data_keys:
            data_keys.remove('containerID')
            data__containerID = data['containerID']
            validate___definitions_uint32(data__containerID, custom_formats, (name_prefix or 'data') + '.containerID')
        if 'hostID' in data_keys:
            data_keys.remove('hostID')
            data__hostID = data['hostID']
            validate___definitions_uint32(data__hostID, custom_formats, (name_prefix or 'data') + '.hostID')
        if 'size' in data_keys:
            data_keys.remove('size')
            data__size = data['size']
            validate___definitions_uint32(data__size, custom_formats, (name_prefix or 'data') + '.size')
    return data

def validate___definitions_namespace(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'type' in data_keys:
            data_keys.remove('type')
            data__type = data['type']
            if not isinstance(data__type, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.type must be string', value=data__type, name='' + (name_prefix or 'data') + '.type', rule='type')
            if not (isinstance(data__type, str) and data__type == 'pid' or (isinstance(data__type, str) and data__type == 'network') or (isinstance(data__type, str) and data__type == 'mount') or (isinstance(data__type, str) and data__type == 'ipc') or (isinstance(data__type, str) and data__type == 'uts') or (isinstance(data__type, str) and data__type == 'user') or (isinstance(data__type, str) and data__type == 'cgroup') or (isinstance(data__type, str) and data__type == 'time')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".type must be one of ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']", value=data__type, name='' + (name_prefix or 'data') + '.type', rule='enum')
        if 'path' in data_keys:
            data_keys.remove('path')
            data__path = data['path']
            if not isinstance(data__path, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.path must be string', value=data__path, name='' + (name_prefix or 'data') + '.path', rule='type')
    return data

def validate___definitions_annotations(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'dev.agentsh.policy' in data_keys:
            data_keys.remove('dev.agentsh.policy')
            data__devagentshpolicy = data['dev.agentsh.policy']
            if not isinstance(data__devagentshpolicy, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.policy must be string', value=data__devagentshpolicy, name='' + (name_prefix or 'data') + '.dev.agentsh.policy', rule='type')
            if isinstance(data__devagentshpolicy, str):
                data__devagentshpolicy_len = len(data__devagentshpolicy)
                if data__devagentshpolicy_len < 1:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.policy must be longer than or equal to 1 characters', value=data__devagentshpolicy, name='' + (name_prefix or 'data') + '.dev.agentsh.policy', rule='minLength')
        if 'dev.agentsh.policy.inline' in data_keys:
            data_keys.remove('dev.agentsh.policy.inline')
            data__devagentshpolicyinline = data['dev.agentsh.policy.inline']
            if not isinstance(data__devagentshpolicyinline, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.policy.inline must be string', value=data__devagentshpolicyinline, name='' + (name_prefix or 'data') + '.dev.agentsh.policy.inline', rule='type')
        if 'dev.agentsh.mode' in data_keys:
            data_keys.remove('dev.agentsh.mode')
            data__devagentshmode = data['dev.agentsh.mode']
            if not isinstance(data__devagentshmode, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.mode must be string', value=data__devagentshmode, name='' + (name_prefix or 'data') + '.dev.agentsh.mode', rule='type')
            if not (isinstance(data__devagentshmode, str) and data__devagentshmode == 'enforce' or (isinstance(data__devagentshmode, str) and data__devagentshmode == 'audit') or (isinstance(data__devagentshmode, str) and data__devagentshmode == 'off')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".dev.agentsh.mode must be one of ['enforce', 'audit', 'off']", value=data__devagentshmode, name='' + (name_prefix or 'data') + '.dev.agentsh.mode', rule='enum')
        if 'dev.agentsh.events' in data_keys:
            data_keys.remove('dev.agentsh.events')
            data__devagentshevents = data['dev.agentsh.events']
            if not isinstance(data__devagentshevents, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.events must be string', value=data__devagentshevents, name='' + (name_prefix or 'data') + '.dev.agentsh.events', rule='type')
            if isinstance(data__devagentshevents, str):
                data__devagentshevents_len = len(data__devagentshevents)
                if data__devagentshevents_len < 1:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.events must be longer than or equal to 1 characters', value=data__devagentshevents, name='' + (name_prefix or 'data') + '.dev.agentsh.events', rule='minLength')
        if 'dev.agentsh.workspace' in data_keys:
            data_keys.remove('dev.agentsh.workspace')
            data__devagentshworkspace = data['dev.agentsh.workspace']
            if not isinstance(data__devagentshworkspace, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.workspace must be string', value=data__devagentshworkspace, name='' + (name_prefix or 'data') + '.dev.agentsh.workspace', rule='type')
            if isinstance(data__devagentshworkspace, str):
                data__devagentshworkspace_len = len(data__devagentshworkspace)
                if data__devagentshworkspace_len < 1:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.workspace must be longer than or equal to 1 characters', value=data__devagentshworkspace, name='' + (name_prefix or 'data') + '.dev.agentsh.workspace', rule='minLength')
        if 'dev.agentsh.ptrace' in data_keys:
            data_keys.remove('dev.agentsh.ptrace')
            data__devagentshptrace = data['dev.agentsh.ptrace']
            if not isinstance(data__devagentshptrace, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.dev.agentsh.ptrace must be string', value=data__devagentshptrace, name='' + (name_prefix or 'data') + '.dev.agentsh.ptrace', rule='type')
            if not (isinstance(data__devagentshptrace, str) and data__devagentshptrace == 'off' or (isinstance(data__devagentshptrace, str) and data__devagentshptrace == 'auto') or (isinstance(data__devagentshptrace, str) and data__devagentshptrace == 'on')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".dev.agentsh.ptrace must be one of ['off', 'auto', 'on']", value=data__devagentshptrace, name='' + (name_prefix or 'data') + '.dev.agentsh.ptrace', rule='enum')
        for data_key in data_keys:
            if data_key not in ['dev.agentsh.policy', 'dev.agentsh.policy.inline', 'dev.agentsh.mode', 'dev.agentsh.events', 'dev.agentsh.workspace', 'dev.agentsh.ptrace']:
                data_value = data.get(data_key)
                if not isinstance(data_value, str):
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.{data_key}'.format(**locals()) + ' must be string', value=data_value, name='' + (name_prefix or 'data') + '.{data_key}'.format(**locals()) + '', rule='type')
    return data

def validate___definitions_hooks(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'prestart' in data_keys:
            data_keys.remove('prestart')
            data__prestart = data['prestart']
            validate___definitions_hooklist(data__prestart, custom_formats, (name_prefix or 'data') + '.prestart')
        if 'createRuntime' in data_keys:
            data_keys.remove('createRuntime')
            data__createRuntime = data['createRuntime']
            validate___definitions_hooklist(data__createRuntime, custom_formats, (name_prefix or 'data') + '.createRuntime')
        if 'createContainer' in data_keys:
            data_keys.remove('createContainer')
            data__createContainer = data['createContainer']
            validate___definitions_hooklist(data__createContainer, custom_formats, (name_prefix or 'data') + '.createContainer')
        if 'startContainer' in data_keys:
            data_keys.remove('startContainer')
            data__startContainer = data['startContainer']
            validate___definitions_hooklist(data__startContainer, custom_formats, (name_prefix or 'data') + '.startContainer')
        if 'poststart' in data_keys:
            data_keys.remove('poststart')
            data__poststart = data['poststart']
            validate___definitions_hooklist(data__poststart, custom_formats, (name_prefix or 'data') + '.poststart')
        if 'poststop' in data_keys:
            data_keys.remove('poststop')
            data__poststop = data['poststop']
            validate___definitions_hooklist(data__poststop, custom_formats, (name_prefix or 'data') + '.poststop')
    return data

def validate___definitions_hooklist(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (list, tuple)):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be array', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_list = isinstance(data, (list, tuple))
    if data_is_list:
        data_len = len(data)
        for data_x, data_item in enumerate(data):
            validate___definitions_hook(data_item, custom_formats, (name_prefix or 'data') + '[{data_x}]'.format(**locals()))
    return data

def validate___definitions_hook(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['path']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'path' in data_keys:
            data_keys.remove('path')
            data__path = data['path']
            if not isinstance(data__path, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.path must be string', value=data__path, name='' + (name_prefix or 'data') + '.path', rule='type')
        if 'args' in data_keys:
            data_keys.remove('args')
            data__args = data['args']
            validate___definitions_stringlist(data__args, custom_formats, (name_prefix or 'data') + '.args')
        if 'env' in data_keys:
            data_keys.remove('env')
            data__env = data['env']
            validate___definitions_stringlist(data__env, custom_formats, (name_prefix or 'data') + '.env')
        if 'timeout' in data_keys:
            data_keys.remove('timeout')
            data__timeout = data['timeout']
            if not isinstance(data__timeout, int) and (not (isinstance(data__timeout, float) and data__timeout.is_integer())) or isinstance(data__timeout, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.timeout must be integer', value=data__timeout, name='' + (name_prefix or 'data') + '.timeout', rule='type')
            if isinstance(data__timeout, (int, float)) and (not isinstance(data__timeout, bool)):
                if data__timeout < 1:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.timeout must be bigger than or equal to 1', value=data__timeout, name='' + (name_prefix or 'data') + '.timeout', rule='minimum')
    return data

def validate___definitions_process(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['cwd']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'terminal' in data_keys:
            data_keys.remove('terminal')
            data__terminal = data['terminal']
            if not isinstance(data__terminal, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.terminal must be boolean', value=data__terminal, name='' + (name_prefix or 'data') + '.terminal', rule='type')
        if 'consoleSize' in data_keys:
            data_keys.remove('consoleSize')
            data__consoleSize = data['consoleSize']
            if not isinstance(data__consoleSize, dict):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.consoleSize must be object', value=data__consoleSize, name='' + (name_prefix or 'data') + '.consoleSize', rule='type')
            data__consoleSize_is_dict = isinstance(data__consoleSize, dict)
            if data__consoleSize_is_dict:
                data__consoleSize__missing_keys = set(['height', 'width']) - data__consoleSize.keys()
                if data__consoleSize__missing_keys:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.consoleSize must contain ' + (str(sorted(data__consoleSize__missing_keys)) + ' properties'), value=data__consoleSize, name='' + (name_prefix or 'data') + '.consoleSize', rule='required')
                data__consoleSize_keys = set(data__consoleSize.keys())
                if 'height' in data__consoleSize_keys:
                    data__consoleSize_keys.remove('height')
                    data__consoleSize__height = data__consoleSize['height']
                    validate___definitions_uint64(data__consoleSize__height, custom_formats, (name_prefix or 'data') + '.consoleSize.height')
                if 'width' in data__consoleSize_keys:
                    data__consoleSize_keys.remove('width')
                    data__consoleSize__width = data__consoleSize['width']
                    validate___definitions_uint64(data__consoleSize__width, custom_formats, (name_prefix or 'data') + '.consoleSize.width')
        if 'user' in data_keys:
            data_keys.remove('user')
            data__user = data['user']
            validate___definitions_user(data__user, custom_formats, (name_prefix or 'data') + '.user')
        if 'args' in data_keys:
            data_keys.remove('args')
            data__args = data['args']
            validate___definitions_stringlist(data__args, custom_formats, (name_prefix or 'data') + '.args')
        if 'commandLine' in data_keys:
            data_keys.remove('commandLine')
            data__commandLine = data['commandLine']
            if not isinstance(data__commandLine, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.commandLine must be string', value=data__commandLine, name='' + (name_prefix or 'data') + '.commandLine', rule='type')
        if 'env' in data_keys:
            data_keys.remove('env')
            data__env = data['env']
            validate___definitions_stringlist(data__env, custom_formats, (name_prefix or 'data') + '.env')
        if 'cwd' in data_keys:
            data_keys.remove('cwd')
            data__cwd = data['cwd']
            if not isinstance(data__cwd, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.cwd must be string', value=data__cwd, name='' + (name_prefix or 'data') + '.cwd', rule='type')
        if 'capabilities' in data_keys:
            data_keys.remove('capabilities')
            data__capabilities = data['capabilities']
            validate___definitions_capabilities(data__capabilities, custom_formats, (name_prefix or 'data') + '.capabilities')
        if 'rlimits' in data_keys:
            data_keys.remove('rlimits')
            data__rlimits = data['rlimits']
            if not isinstance(data__rlimits, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.rlimits must be array', value=data__rlimits, name='' + (name_prefix or 'data') + '.rlimits', rule='type')
            data__rlimits_is_list = isinstance(data__rlimits, (list, tuple))
            if data__rlimits_is_list:
                data__rlimits_len = len(data__rlimits)
                for data__rlimits_x, data__rlimits_item in enumerate(data__rlimits):
                    validate___definitions_rlimit(data__rlimits_item, custom_formats, (name_prefix or 'data') + '.rlimits[{data__rlimits_x}]'.format(**locals()))
        if 'noNewPrivileges' in data_keys:
            data_keys.remove('noNewPrivileges')
            data__noNewPrivileges = data['noNewPrivileges']
            if not isinstance(data__noNewPrivileges, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.noNewPrivileges must be boolean', value=data__noNewPrivileges, name='' + (name_prefix or 'data') + '.noNewPrivileges', rule='type')
        if 'apparmorProfile' in data_keys:
            data_keys.remove('apparmorProfile')
            data__apparmorProfile = data['apparmorProfile']
            if not isinstance(data__apparmorProfile, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.apparmorProfile must be string', value=data__apparmorProfile, name='' + (name_prefix or 'data') + '.apparmorProfile', rule='type')
        if 'oomScoreAdj' in data_keys:
            data_keys.remove('oomScoreAdj')
            data__oomScoreAdj = data['oomScoreAdj']
            if not isinstance(data__oomScoreAdj, int) and (not (isinstance(data__oomScoreAdj, float) and data__oomScoreAdj.is_integer())) or isinstance(data__oomScoreAdj, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.oomScoreAdj must be integer', value=data__oomScoreAdj, name='' + (name_prefix or 'data') + '.oomScoreAdj', rule='type')
            if isinstance(data__oomScoreAdj, (int, float)) and (not isinstance(data__oomScoreAdj, bool)):
                if data__oomScoreAdj < -1000:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.oomScoreAdj must be bigger than or equal to -1000', value=data__oomScoreAdj, name='' + (name_prefix or 'data') + '.oomScoreAdj', rule='minimum')
                if data__oomScoreAdj > 1000:
                    raise JsonSchemaValueException('' + (name_prefix or 'data') + '.oomScoreAdj must be smaller than or equal to 1000', value=data__oomScoreAdj, name='' + (name_prefix or 'data') + '.oomScoreAdj', rule='maximum')
        if 'selinuxLabel' in data_keys:
            data_keys.remove('selinuxLabel')
            data__selinuxLabel = data['selinuxLabel']
            if not isinstance(data__selinuxLabel, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.selinuxLabel must be string', value=data__selinuxLabel, name='' + (name_prefix or 'data') + '.selinuxLabel', rule='type')
        if 'ioPriority' in data_keys:
            data_keys.remove('ioPriority')
            data__ioPriority = data['ioPriority']
            validate___definitions_iopriority(data__ioPriority, custom_formats, (name_prefix or 'data') + '.ioPriority')
        if 'scheduler' in data_keys:
            data_keys.remove('scheduler')
            data__scheduler = data['scheduler']
            validate___definitions_scheduler(data__scheduler, custom_formats, (name_prefix or 'data') + '.scheduler')
        if 'execCPUAffinity' in data_keys:
            data_keys.remove('execCPUAffinity')
            data__execCPUAffinity = data['execCPUAffinity']
            validate___definitions_execcpuaffinity(data__execCPUAffinity, custom_formats, (name_prefix or 'data') + '.execCPUAffinity')
    return data

def validate___definitions_execcpuaffinity(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'initial' in data_keys:
            data_keys.remove('initial')
            data__initial = data['initial']
            validate___definitions_cpulist(data__initial, custom_formats, (name_prefix or 'data') + '.initial')
        if 'final' in data_keys:
            data_keys.remove('final')
            data__final = data['final']
            validate___definitions_cpulist(data__final, custom_formats, (name_prefix or 'data') + '.final')
    return data

def validate___definitions_cpulist(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, str):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be string', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if isinstance(data, str):
        if not REGEX_PATTERNS['^[0-9, -]*$'].search(data):
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must match pattern ^[0-9, -]*$', value=data, name='' + (name_prefix or 'data') + '', rule='pattern')
    return data

def validate___definitions_scheduler(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['policy']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'policy' in data_keys:
            data_keys.remove('policy')
            data__policy = data['policy']
            if not isinstance(data__policy, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.policy must be string', value=data__policy, name='' + (name_prefix or 'data') + '.policy', rule='type')
            if not (isinstance(data__policy, str) and data__policy == 'SCHED_OTHER' or (isinstance(data__policy, str) and data__policy == 'SCHED_FIFO') or (isinstance(data__policy, str) and data__policy == 'SCHED_RR') or (isinstance(data__policy, str) and data__policy == 'SCHED_BATCH') or (isinstance(data__policy, str) and data__policy == 'SCHED_ISO') or (isinstance(data__policy, str) and data__policy == 'SCHED_IDLE') or (isinstance(data__policy, str) and data__policy == 'SCHED_DEADLINE')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".policy must be one of ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE']", value=data__policy, name='' + (name_prefix or 'data') + '.policy', rule='enum')
        if 'nice' in data_keys:
            data_keys.remove('nice')
            data__nice = data['nice']
            validate___definitions_int32(data__nice, custom_formats, (name_prefix or 'data') + '.nice')
        if 'priority' in data_keys:
            data_keys.remove('priority')
            data__priority = data['priority']
            validate___definitions_int32(data__priority, custom_formats, (name_prefix or 'data') + '.priority')
        if 'flags' in data_keys:
            data_keys.remove('flags')
            data__flags = data['flags']
            if not isinstance(data__flags, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.flags must be array', value=data__flags, name='' + (name_prefix or 'data') + '.flags', rule='type')
            data__flags_is_list = isinstance(data__flags, (list, tuple))
            if data__flags_is_list:
                data__flags_len = len(data__flags)
                for data__flags_x, data__flags_item in enumerate(data__flags):
                    if not isinstance(data__flags_item, str):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + ' must be string', value=data__flags_item, name='' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + '', rule='type')
                    if not (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_RESET_ON_FORK' or (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_RECLAIM') or (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_DL_OVERRUN') or (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_KEEP_POLICY') or (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_KEEP_PARAMS') or (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_UTIL_CLAMP_MIN') or (isinstance(data__flags_item, str) and data__flags_item == 'SCHED_FLAG_UTIL_CLAMP_MAX')):
                        raise JsonSchemaValueException('' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + " must be one of ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_DL_OVERRUN', 'SCHED_FLAG_KEEP_POLICY', 'SCHED_FLAG_KEEP_PARAMS', 'SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX']", value=data__flags_item, name='' + (name_prefix or 'data') + '.flags[{data__flags_x}]'.format(**locals()) + '', rule='enum')
        if 'runtime' in data_keys:
            data_keys.remove('runtime')
            data__runtime = data['runtime']
            validate___definitions_uint64(data__runtime, custom_formats, (name_prefix or 'data') + '.runtime')
        if 'deadline' in data_keys:
            data_keys.remove('deadline')
            data__deadline = data['deadline']
            validate___definitions_uint64(data__deadline, custom_formats, (name_prefix or 'data') + '.deadline')
        if 'period' in data_keys:
            data_keys.remove('period')
            data__period = data['period']
            validate___definitions_uint64(data__period, custom_formats, (name_prefix or 'data') + '.period')
    return data

def validate___definitions_int32(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, int) and (not (isinstance(data, float) and data.is_integer())) or isinstance(data, bool):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be integer', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    if isinstance(data, (int, float)) and (not isinstance(data, bool)):
        if data < -2147483648:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be bigger than or equal to -2147483648', value=data, name='' + (name_prefix or 'data') + '', rule='minimum')
        if data > 2147483647:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be smaller than or equal to 2147483647', value=data, name='' + (name_prefix or 'data') + '', rule='maximum')
    return data

def validate___definitions_iopriority(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['class']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'class' in data_keys:
            data_keys.remove('class')
            data__class = data['class']
            if not isinstance(data__class, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.class must be string', value=data__class, name='' + (name_prefix or 'data') + '.class', rule='type')
            if not (isinstance(data__class, str) and data__class == 'IOPRIO_CLASS_RT' or (isinstance(data__class, str) and data__class == 'IOPRIO_CLASS_BE') or (isinstance(data__class, str) and data__class == 'IOPRIO_CLASS_IDLE')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".class must be one of ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE']", value=data__class, name='' + (name_prefix or 'data') + '.class', rule='enum')
        if 'priority' in data_keys:
            data_keys.remove('priority')
            data__priority = data['priority']
            validate___definitions_int32(data__priority, custom_formats, (name_prefix or 'data') + '.priority')
    return data

def validate___definitions_rlimit(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['type', 'soft', 'hard']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'type' in data_keys:
            data_keys.remove('type')
            data__type = data['type']
            if not isinstance(data__type, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.type must be string', value=data__type, name='' + (name_prefix or 'data') + '.type', rule='type')
            if not (isinstance(data__type, str) and data__type == 'RLIMIT_AS' or (isinstance(data__type, str) and data__type == 'RLIMIT_CORE') or (isinstance(data__type, str) and data__type == 'RLIMIT_CPU') or (isinstance(data__type, str) and data__type == 'RLIMIT_DATA') or (isinstance(data__type, str) and data__type == 'RLIMIT_FSIZE') or (isinstance(data__type, str) and data__type == 'RLIMIT_LOCKS') or (isinstance(data__type, str) and data__type == 'RLIMIT_MEMLOCK') or (isinstance(data__type, str) and data__type == 'RLIMIT_MSGQUEUE') or (isinstance(data__type, str) and data__type == 'RLIMIT_NICE') or (isinstance(data__type, str) and data__type == 'RLIMIT_NOFILE') or (isinstance(data__type, str) and data__type == 'RLIMIT_NPROC') or (isinstance(data__type, str) and data__type == 'RLIMIT_RSS') or (isinstance(data__type, str) and data__type == 'RLIMIT_RTPRIO') or (isinstance(data__type, str) and data__type == 'RLIMIT_RTTIME') or (isinstance(data__type, str) and data__type == 'RLIMIT_SIGPENDING') or (isinstance(data__type, str) and data__type == 'RLIMIT_STACK')):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + ".type must be one of ['RLIMIT_AS', 'RLIMIT_CORE', 'RLIMIT_CPU', 'RLIMIT_DATA', 'RLIMIT_FSIZE', 'RLIMIT_LOCKS', 'RLIMIT_MEMLOCK', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_RSS', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME', 'RLIMIT_SIGPENDING', 'RLIMIT_STACK']", value=data__type, name='' + (name_prefix or 'data') + '.type', rule='enum')
        if 'soft' in data_keys:
            data_keys.remove('soft')
            data__soft = data['soft']
            validate___definitions_uint64(data__soft, custom_formats, (name_prefix or 'data') + '.soft')
        if 'hard' in data_keys:
            data_keys.remove('hard')
            data__hard = data['hard']
            validate___definitions_uint64(data__hard, custom_formats, (name_prefix or 'data') + '.hard')
    return data

def validate___definitions_capabilities(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'bounding' in data_keys:
            data_keys.remove('bounding')
            data__bounding = data['bounding']
            validate___definitions_stringlist(data__bounding, custom_formats, (name_prefix or 'data') + '.bounding')
        if 'effective' in data_keys:
            data_keys.remove('effective')
            data__effective = data['effective']
            validate___definitions_stringlist(data__effective, custom_formats, (name_prefix or 'data') + '.effective')
        if 'inheritable' in data_keys:
            data_keys.remove('inheritable')
            data__inheritable = data['inheritable']
            validate___definitions_stringlist(data__inheritable, custom_formats, (name_prefix or 'data') + '.inheritable')
        if 'permitted' in data_keys:
            data_keys.remove('permitted')
            data__permitted = data['permitted']
            validate___definitions_stringlist(data__permitted, custom_formats, (name_prefix or 'data') + '.permitted')
        if 'ambient' in data_keys:
            data_keys.remove('ambient')
            data__ambient = data['ambient']
            validate___definitions_stringlist(data__ambient, custom_formats, (name_prefix or 'data') + '.ambient')
    return data

def validate___definitions_user(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data_keys = set(data.keys())
        if 'uid' in data_keys:
            data_keys.remove('uid')
            data__uid = data['uid']
            validate___definitions_uint32(data__uid, custom_formats, (name_prefix or 'data') + '.uid')
        if 'gid' in data_keys:
            data_keys.remove('gid')
            data__gid = data['gid']
            validate___definitions_uint32(data__gid, custom_formats, (name_prefix or 'data') + '.gid')
        if 'umask' in data_keys:
            data_keys.remove('umask')
            data__umask = data['umask']
            validate___definitions_uint32(data__umask, custom_formats, (name_prefix or 'data') + '.umask')
        if 'additionalGids' in data_keys:
            data_keys.remove('additionalGids')
            data__additionalGids = data['additionalGids']
            if not isinstance(data__additionalGids, (list, tuple)):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.additionalGids must be array', value=data__additionalGids, name='' + (name_prefix or 'data') + '.additionalGids', rule='type')
            data__additionalGids_is_list = isinstance(data__additionalGids, (list, tuple))
            if data__additionalGids_is_list:
                data__additionalGids_len = len(data__additionalGids)
                for data__additionalGids_x, data__additionalGids_item in enumerate(data__additionalGids):
                    validate___definitions_uint32(data__additionalGids_item, custom_formats, (name_prefix or 'data') + '.additionalGids[{data__additionalGids_x}]'.format(**locals()))
        if 'username' in data_keys:
            data_keys.remove('username')
            data__username = data['username']
            if not isinstance(data__username, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.username must be string', value=data__username, name='' + (name_prefix or 'data') + '.username', rule='type')
    return data

def validate___definitions_mount(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['destination']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'destination' in data_keys:
            data_keys.remove('destination')
            data__destination = data['destination']
            if not isinstance(data__destination, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.destination must be string', value=data__destination, name='' + (name_prefix or 'data') + '.destination', rule='type')
        if 'source' in data_keys:
            data_keys.remove('source')
            data__source = data['source']
            if not isinstance(data__source, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.source must be string', value=data__source, name='' + (name_prefix or 'data') + '.source', rule='type')
        if 'type' in data_keys:
            data_keys.remove('type')
            data__type = data['type']
            if not isinstance(data__type, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.type must be string', value=data__type, name='' + (name_prefix or 'data') + '.type', rule='type')
        if 'options' in data_keys:
            data_keys.remove('options')
            data__options = data['options']
            validate___definitions_stringlist(data__options, custom_formats, (name_prefix or 'data') + '.options')
        if 'uidMappings' in data_keys:
            data_keys.remove('uidMappings')
            data__uidMappings = data['uidMappings']
            validate___definitions_idmappinglist(data__uidMappings, custom_formats, (name_prefix or 'data') + '.uidMappings')
        if 'gidMappings' in data_keys:
            data_keys.remove('gidMappings')
            data__gidMappings = data['gidMappings']
            validate___definitions_idmappinglist(data__gidMappings, custom_formats, (name_prefix or 'data') + '.gidMappings')
    return data

def validate___definitions_root(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, dict):
        raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must be object', value=data, name='' + (name_prefix or 'data') + '', rule='type')
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['path']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException('' + (name_prefix or 'data') + ' must contain ' + (str(sorted(data__missing_keys)) + ' properties'), value=data, name='' + (name_prefix or 'data') + '', rule='required')
        data_keys = set(data.keys())
        if 'path' in data_keys:
            data_keys.remove('path')
            data__path = data['path']
            if not isinstance(data__path, str):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.path must be string', value=data__path, name='' + (name_prefix or 'data') + '.path', rule='type')
        if 'readonly' in data_keys:
            data_keys.remove('readonly')
            data__readonly = data['readonly']
            if not isinstance(data__readonly, bool):
                raise JsonSchemaValueException('' + (name_prefix or 'data') + '.readonly must be boolean', value=data__readonly, name='' + (name_prefix or 'data') + '.readonly', rule='type')
    return data
