; Inno Setup script for the Windows installer (not built or tested here: these machines are Linux).
; 1. On Windows, in a developer prompt: py -3.11 -m venv .venv && .venv\Scripts\pip install -e .[package]
; 2. .venv\Scripts\python packaging\export_embedder.py build\embedder-onnx
; 3. The icon: .venv\Scripts\python -c "from PIL import Image; Image.open('resources/icons/hearth-256.png').save('build/hearth.ico', sizes=[(16,16),(32,32),(48,48),(256,256)])"
;    (Pillow comes with PyInstaller's icon support: pip install pillow), then copy build\hearth.ico next to this script.
; 4. .venv\Scripts\pyinstaller --noconfirm packaging\hearth.spec   (gives dist\hearth\hearth.exe)
; 5. iscc packaging\windows\hearth.iss                              (gives dist\HearthSetup.exe)
[Setup]
AppName=Hearth
AppVersion=0.1.0
AppPublisher=Hearth
DefaultDirName={localappdata}\Programs\Hearth
DefaultGroupName=Hearth
PrivilegesRequired=lowest
OutputDir=..\..\dist
OutputBaseFilename=HearthSetup
SetupIconFile=hearth.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible

[Files]
Source: "..\..\dist\hearth\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Hearth"; Filename: "{app}\hearth.exe"
Name: "{userdesktop}\Hearth"; Filename: "{app}\hearth.exe"; Tasks: desktopicon

[Tasks]
Name: desktopicon; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\hearth.exe"; Description: "Start Hearth"; Flags: nowait postinstall skipifsilent
