"""Every bilingual (Chinese + English) text the WebUI and its server show, in one place.

Texts with blanks are ``str.format`` templates; the blank names say what goes in. A change of
wording is a change here only, and a translator reads one file.
"""
from __future__ import annotations

# ---------------------------------------------------------------------------- page
TITLE = "OCR 文本检测 Text detection · DBNet-ResNet18"
AUTH_MESSAGE = "OCR 文本检测 Text detection: 请登录 please sign in"
TAB_SINGLE = "单图检测 Single image"
TAB_BATCH = "批量检测 Batch"
TAB_TRAIN = "训练微调 Train"
TAB_EXPORT = "ONNX 导出 Export"
NO_ALLOWED_ROOTS = "（无 none: --allowed-roots）"
CANCEL = "取消 Cancel"

# ---------------------------------------------------------------------------- server (serve command)
ADDRESS = "WebUI 服务地址: {url}"
ADDRESS_LOCAL = "本机访问 Local: {url}"
ADDRESS_STOP = "停止服务 Stop: bash stop_app.sh   (pid file {pid_file})"
WARN_NO_AUTH = ("警告 WARNING: listening on {host} without --auth: anyone who can reach port {port} can use "
                "this service (detect, train, export). Use --auth user:pass or OCR_AUTH.")
WARN_NO_WEIGHTS = ("未安装模型权重 NO TRAINED WEIGHTS: the WebUI starts, but detection answers with "
                   "an error until weights are installed ({problem})")

# ---------------------------------------------------------------------------- served model
BANNER_NO_WEIGHTS = ("### ⚠️ 未安装训练好的模型权重 No trained weights installed\n"
                     "检测功能不可用 Detection is unavailable until weights are installed. {problem}\n\n"
                     "可在 **训练微调 Train** 页训练后点击“使用新权重 Use the new weights”。 "
                     "Train in the **Train** tab and switch to the result, or restart with `--weights FILE`.")
BANNER_MODEL = "模型 Model: `{model}` · 设备 Device: `{device}`{onnx}  \n后端 Backend: {backend}{swapped}"
BANNER_SWAPPED = ("  \n⚠️ 正在提供训练得到的权重 Serving trained weights `{path}`, not the released ones "
                  "(训练微调 Train → 恢复发布的权重 Revert to released weights)")
BANNER_ONNX_DROPPED = (" · ONNX: 已导出的 `{name}` 属于旧权重，需重新导出 the exported `{name}` belongs to the "
                       "previous weights and was dropped: export again for these weights")
NO_WEIGHTS = ("未安装模型权重 No trained weights are installed, so nothing is detected "
              "(a random model would draw random boxes). {problem}")
ONNX_NO_MODEL = ("ONNX 后端没有模型 The ONNX backend has no model yet: export one in the "
                 "ONNX 导出 Export tab, or start the server with --onnx-model FILE.onnx.")
ONNX_UNAVAILABLE = "ONNX Runtime 后端不可用 The ONNX Runtime backend is unavailable on this server: {error}"
RECOGNITION_UNAVAILABLE = "文字识别不可用 Text recognition is unavailable on this server: {error}"

# ---------------------------------------------------------------------------- errors and limits
TITLE_TIME_LIMIT = "超时 Time limit"
TITLE_ERROR = "出错了 Error"
INTERNAL_ERROR = ("内部错误 Internal error ({kind}: {error}). "
                  "The server is still running; details are in its log.")
TIME_LIMIT = ("{what} 超过时间限制 took longer than the server's limit of {seconds:.0f} s. "
              "Try a smaller image (lower the size limit) or ask the admin to raise "
              "--time-limit.")
JOB_BUSY = ("已有任务在运行 A job is already running: {name} (since {since}). "
            "Wait for it to finish or cancel it first; one job runs at a time.")
FOLDER_BUSY = ("另一个任务正在写入 Another run is writing into {folder} right now; "
               "wait for it to finish (or cancel it) and submit again.")

# ---------------------------------------------------------------------------- server folders
ENTER_FOLDER = "请输入服务器文件夹 Enter a server {what} path."
FOLDERS_DISABLED = ("服务器文件夹已禁用 Server folders are disabled on this server: "
                    "the admin can allow some with --allowed-roots DIR (or OCR_ALLOWED_ROOTS).")
CANNOT_RESOLVE = "无法解析路径 Cannot resolve the path: {path}"
NOT_ALLOWED = "不允许访问 Not allowed: {path} is outside the allowed folders ({allowed})."
FOLDER_NOT_FOUND = "找不到文件夹 Folder not found: {path}"
NOT_A_FOLDER = "不是文件夹 Not a folder: {path}"

# ---------------------------------------------------------------------------- detection controls
BAD_IMAGE = ("无法读取图片 Not a readable image: {name} ({kind}). "
             "Upload a JPEG, PNG, BMP, TIFF or WebP picture.")
TITLE_BAD_IMAGE = "图片无效 Bad image"
# Output names (also what "Use via API" lists for each endpoint's results).
LABEL_BANNER = "当前模型 Served model"
LABEL_TIMING = "耗时 Timing"
LABEL_RESULT_JSON = "检测结果 JSON Result JSON"
LABEL_SUMMARY = "汇总 Summary"
LABEL_DATASET_STATUS = "训练状态 Training status"
LABEL_SWAP = "权重对比 Weights comparison"
LABEL_EXPORT_REPORT = "导出报告 Export report"
EXAMPLES = "示例 Examples (点击试用 click to try)"
EXAMPLE_LABELS = ["收据 Receipt (render)", "文档 Document page (scan)", "照片 Photo of printed text"]
DOWNLOAD_CSV = "下载表格 Download CSV"
TABLE_HINT = "点击一行以在图中突出该框 Click a row to highlight its box in the picture."
UPLOAD_REJECTED = "**⚠️ {message}**"
BATCH_UPLOAD_CHECKED = "已上传 {n} 个文件，均可读取 {n} file(s) uploaded, all readable. 点击开始 Press Run."
BATCH_UPLOAD_BAD = ("**⚠️ {bad} / {n} 个文件无法读取 of the uploaded files are not readable images** "
                    "(它们会记为失败 they will be reported as failed; remove them or upload again):")
THRESHOLD = "检测阈值 Detection threshold"
THRESHOLD_INFO = ("像素概率高于此值算作文字；太低时相邻文字会连成一片 "
                  "A pixel counts as text above this probability; too low and neighbouring words merge into one "
                  "region")
BOX_THRESHOLD = "框阈值 Box threshold"
BOX_THRESHOLD_INFO = ("区域平均概率低于此值的框被丢弃；降低可找回淡的文字 A region whose mean probability is "
                      "below this is dropped; lower it to keep faint text")
RECOGNIZE = "识别文字 Read the text"
RECOGNIZE_INFO = ("用 PP-OCRv4 读出每个框里的文字（离线，较慢）Read the text in each box with PP-OCRv4 "
                  "(offline; adds time per box): the JSON gets texts and text_scores")
NO_BOXES_HINT = ("\n\n**没有找到文字 No text found.** 可尝试 Try: 检测阈值 detection threshold 0.2 或 or 0.4 "
                 "(过低会把文字连成被丢弃的大块，过高会漏掉淡的文字 too low merges words into large regions "
                 "that are then dropped, too high misses faint text), 框阈值 box threshold 0.3-0.35 "
                 "(保留淡的文字 keeps faint text), 尺寸上限 size limit 1600-2048 (小字 small text).")

# ---------------------------------------------------------------------------- single image tab
SINGLE_IMAGE = "上传图片 Image (upload / drag / paste)"
IMAGE_PLACEHOLDER = "拖放图片到这里、点击上传或粘贴 (Ctrl+V)  \nDrop a picture here, click to upload, or paste it (Ctrl+V)"
ADVANCED = "高级设置 Advanced"
UNCLIP = "扩张比例 Unclip ratio"
UNCLIP_INFO = "框向外扩张的程度 How far boxes grow around the text"
GRANULARITY = "框的粒度 Boxes per"
GRANULARITY_INFO = ("自动: 街景按词, 文档和中文按行 auto: words on street scenes, lines on documents and Chinese; "
                    "行: 每行一个框 lines: a box per line; "
                    "词: 在词间空隙切开 (中文仍按行) words: Latin lines cut at the gaps between words")
GRANULARITY_CHOICES = [("自动 auto", "auto"), ("行 lines", "lines"), ("词 words", "words")]
ZOOM = "街景放大再读一次 Read scene photos again, enlarged"
ZOOM_INFO = ("按词读的图片 (街景): 文字周围的区域放大此倍数再推理一次并取平均: 词框更准, 耗时约 2.6 倍; 1 = 只读一次; "
             "文档不受影响 An image read by word (a scene photo): the window around its text also runs enlarged "
             "by this factor and the two maps are averaged there: better word boxes for about 2.6 times its "
             "time; 1 = once; documents run once")
MIRROR = "街景镜像再读一次 Also read scene photos mirrored"
MIRROR_INFO = ("按词读的图片 (街景) 再镜像推理一次并取平均; 默认关闭: 在 499 张街景上平均不比一次好 "
               "An image read by word (a scene photo) also runs mirrored and the maps are averaged; "
               "off by default: on 499 street photos it was no better than one look on average")
SIZE_LIMIT = "尺寸上限 Size limit (px)"
SIZE_LIMIT_INFO = "长边缩放到不超过此值 Long side is scaled down to at most this"
BACKEND = "推理后端 Backend"
BACKEND_AUTO = "自动 Auto (fastest verified)"
BACKEND_ONNX_FILE = "ONNX Runtime (exported file)"
DETECT = "开始检测 Detect"
RESULT = "检测结果 Result"
DOWNLOAD_JSON = "下载 JSON Download JSON"
DOWNLOAD_PICTURE = "下载图片 Download picture"
BOXES = "文本框 Boxes"
TEXT_COLUMN = "文字 text"
TEXT_SCORE_COLUMN = "识别置信度 text score"
NO_IMAGE = "请先上传图片 Upload an image first."
TITLE_NO_IMAGE = "缺少图片 No image"
DETECTION = "检测 Detection"
TIMING = ("**推理耗时 Inference time: {seconds:.3f} s** ({stages})  \n"
          "{boxes} 个文本框 boxes · {width}×{height} px · "
          "已保存 saved in `{folder}`")

# ---------------------------------------------------------------------------- batch tab
BATCH_FILES = "上传多张图片 Images (at most {cap} per submission)"
BATCH_FOLDER = "或服务器文件夹 Or a server folder (searched recursively)"
ALLOWED_ROOTS = "允许的目录 Allowed roots: {roots}"
RUN_BATCH = "开始批量检测 Run batch"
BATCH_SUMMARY_EMPTY = "提交后这里显示汇总 The summary appears here."
DOWNLOAD_RESULTS = "下载结果 Download results (.zip)"
RESULTS = "检测结果 Results"
CHOOSE_ONE = "请二选一 Choose one: upload files or enter a server folder, not both."
TOO_MANY_FILES = ("一次最多 {cap} 张 At most {cap} files per submission "
                  "(got {got}): split them, or use a server folder.")
NOTHING_TO_DO = "请上传图片或输入服务器文件夹 Upload images or enter a server folder."
NO_IMAGES_IN = "文件夹里没有图片 No images in {folder} ({extensions})."
SUMMARY_HEADER = ("| 图片 Images | 本次处理 Processed | 已完成跳过 Skipped (done before, same settings) | "
                  "文本框 Boxes (whole folder) | 失败 Failures | 平均耗时 Mean time (whole folder) |")
REDONE = ("{n} 张图片此前用其他模型或参数处理过，已按当前设置重新检测 "
          "{n} image(s) had results from another model or other settings and were detected again.")
RESULTS_FOLDER = "结果目录 Results folder: `{folder}`"
STOPPED = ("\n**{why}** 已完成的结果已保存 Finished images are saved; submit the same "
           "folder again to continue.")
FAILED_IMAGES = "\n失败 Failed images:"
STARTING = "开始 starting"
STOPPED_AT_LIMIT = "超过时间限制 Stopped at the time limit ({seconds:.0f} s)."
CANCELLED = "已取消 Cancelled."
CANCELLING_BATCH = "正在取消 Cancelling after the current image ..."
NO_BATCH_RUNNING = "没有正在运行的批量任务 No batch is running in this page."

# ---------------------------------------------------------------------------- train tab
STATE_LABEL = {"running": "⏳ 训练中 Running", "done": "✅ 完成 Finished", "failed": "❌ 失败 Failed",
               "cancelled": "⏹ 已取消 Cancelled"}
DATASET = "数据集文件夹 Dataset folder (ICDAR-2015 layout)"
DATASET_INFO = "train_images/, train_gts/, train_list.txt, test_* · 允许 Allowed: {roots}"
CHECK_DATASET = "检查数据 Check dataset"
BATCH_SIZE = "批大小 Batch size"
EPOCHS = "轮数 Epochs"
LEARNING_RATE = "学习率 Learning rate"
FROM_CURRENT = "从当前权重开始 Start from the current weights"
FROM_CURRENT_INFO = "微调 Fine-tune the served model instead of training from scratch"
START_TRAINING = "开始训练 Start training"
USE_NEW_WEIGHTS = "使用新权重 Use the new weights"
NO_TRAINING_JOB = "没有训练任务 No training job yet."
LOSS = "损失 Loss"
LOG = "日志 Log"
JOB_ERROR = "\n\n❌ {error}"
BAD_LEARNING_RATE = "学习率 Learning rate must be in {bounds} (got {lr})."
TRAINING_JOB = "训练 training {run}"
TRAINING_STARTED = "已开始 Started: {summary} → `{workdir}`"
DATASET_PROBLEM = "❌ 数据集有问题 Dataset problem: {error}"
DATASET_OK = "✅ 数据集可用 Dataset OK: {summary}"
CANCELLING_TRAINING = ("正在取消 Cancelling: the trainer stops after the current forward pass or validation "
                       "image (seconds), saves a checkpoint and ends.")
LOG_STEP = "轮 epoch {epoch} · 步 step {step}/{total} · 损失 loss {loss:.4f} · 学习率 lr {lr:.2e}"
LOG_EVAL = ("验证 eval · 步 step {step} · 轮 epoch {epoch}: 精确率 precision {precision:.4f} · "
            "召回率 recall {recall:.4f} · hmean {hmean:.4f}{best}")
LOG_BEST = "（最佳 best）"
LOG_DONE = "完成 done · 步 step {step}: 最佳 best {best} · 最后 last {last}"
LOG_SETTINGS = "设置 settings: {settings}（全部见 all of them in log.jsonl and the checkpoint）"
PHASE = {"data": "读取数据 reading the dataset", "model": "构建模型 building the model",
         "train": "加载第一批图片 loading the first batch", "validate": "验证中 validating"}
PREPARING = " · {phase} ({seconds} s)"
STEP_OF = " · 第 {step} / {total} 步 step {step} of {total} · loss {loss:.4f}"
NEXT_UPDATE = " · 下次更新约 next update in ~{seconds} s"
LOSS_ONE_POINT = "第 {step} 步 Step {step}: loss {loss:.4f}（第二个点后画线 the line starts at the next logged step, {next}）"
LOSS_LATEST = "最新 Latest: step {step}, loss {loss:.4f}"
NO_TEST_SPLIT = ("此数据集没有测试集，不计算 hmean No test split in this dataset (test_images/ + test_gts/), "
                 "so there is no validation hmean; the run keeps its last weights.")
FIRST_VALIDATION = "首次验证 First validation at step {step} ({images} images)"
NO_TRAINING_RUNNING = "没有正在运行的训练 No training is running."
NO_NEW_WEIGHTS = "还没有新权重 No finished training run with weights yet."
NOW_SERVING = "已切换 Now serving {model}"
REVERT = "恢复发布的权重 Revert to released weights"
CONFIRM_SWAP = "确认：向所有用户提供这些权重 Confirm: serve these weights to every user"
REVERTED = "已恢复发布的权重 Serving the released weights again: {model}"
NOTHING_TO_REVERT = "已在提供发布的权重 The released weights are already served."
NO_RELEASED_WEIGHTS = "找不到发布的权重 The released weights are missing: {path}"
RUN_FAILED = "训练失败，不提供其权重 The run failed: its weights are not offered."
RUN_NOT_FINISHED = "训练尚未完成 The run has not finished: its weights are not offered yet."
RUN_CANCELLED = ("训练已取消，不提供其权重 The run was cancelled: its weights are not offered "
                 "(resume or rerun it to the end).")
RUN_WEIGHTS_MISSING = "找不到该训练的权重文件 The run's weights file is missing: {path}"
REFUSED_WEIGHTS = "不能使用这些权重 Not serving {path}: {reason}"
SWAP_OFFER = "\n\n可用权重 Offered: {which} `{path}` · 验证 Validation hmean **{hmean}**"
SWAP_OFFER_NO_VAL = ("\n\n可用权重 Offered: {which} `{path}` · 此训练没有验证集，无法比较 this run had no "
                     "validation split, so there is no hmean to compare")
SWAP_NOT_OFFERED = "\n\n{reason}"
WHICH = {"best": "最佳检查点 best checkpoint", "last": "最后权重 last weights"}
SWAP_COMPARE = ("**比较 Compare on the run's {images} validation images** (same evaluation engine):  \n"
                "- 新权重 New: `{new}` ({which}{step}) · hmean **{new_hmean:.4f}**  \n"
                "- 当前 Served: `{served}` · hmean **{served_hmean:.4f}** "
                "(P {precision:.4f} · R {recall:.4f})  \n"
                "{verdict}确认后所有用户都将使用新权重 After confirming, every user gets the new weights; "
                "the released ones stay one click away.")
SWAP_COMPARE_NO_VAL = ("**无法比较 No comparison**: this run had no validation split (no test_* images), so "
                       "neither model can be scored on it. 新权重 New: `{new}` ({which}).  \n"
                       "确认后所有用户都将使用新权重 After confirming, every user gets the new weights; "
                       "the released ones stay one click away.")
SWAP_COMPARE_NOTHING_SERVED = ("当前没有模型可比较 No model is served now, so there is nothing to compare. "
                               "新权重 New: `{new}` ({which}).")
SWAP_WORSE = "⚠️ **新权重更差 The new weights score lower than the served model.**  \n"
SWAP_STEP = ", step {step}"

# ---------------------------------------------------------------------------- export tab
SIZE_INFO = "{lo}-{hi}, {step} 的倍数 multiple of {step}"
HEIGHT = "高度 Height"
WIDTH = "宽度 Width"
DYNAMIC = "动态尺寸 Dynamic shape"
DYNAMIC_INFO = "任意 32 倍数的输入 Any multiple-of-32 input; the size above is used to verify"
PRECISION = "精度 Precision"
PRECISION_INFO = "fp16: GPU; int8: fastest on CPU (checked for box agreement)"
EXPORT = "导出 Export"
EXPORT_REPORT_EMPTY = "导出后这里显示与 PyTorch 的对比 The parity report appears here."
DOWNLOAD_ONNX = "下载 ONNX Download .onnx"
CODE_SAMPLE_LABEL = "ONNX Runtime 示例代码 Code sample"
ENTER_SIDE = "请输入{name} Enter the {side} in pixels."
VERIFIED = "✅ **验证通过 Verified**"
NOT_VERIFIED = "❌ **验证失败 Verification FAILED: no file was released**"
MAX_DIFF = " · 与 PyTorch 最大差异 max |ONNX − PyTorch| = `{diff:.2e}`"
EXPORT_JOB = "ONNX 导出 Export"
EXPORT_STALE = ("模型权重在导出期间已切换 The served weights changed during the export: the file is offered "
               "for download, but the ONNX backend does not use it (export again for the new weights).")
EXPORT_NOW_SERVED = ("\n\n单图检测页的 ONNX 后端现在使用此文件 The single tab's \"ONNX Runtime (exported file)\" "
                     "backend now uses this file.")
EXPORT_FIXED_SIZE = (" 固定尺寸 Fixed size {height}×{width}: every image is shrunk to fit it, so small text on "
                     "large pages (A4 scans, tall receipts) may be lost; choose dynamic shape for those.")
EXPORT_MISMATCH = "导出的模型与 PyTorch 不一致 The exported model does not match PyTorch; see the report."
CODE_SAMPLE = '''# 1) 本项目 With this project: same pre/post-processing as the WebUI, boxes in pixels
from models import TextDetector
det = TextDetector(backend="onnx", model="{file_name}")
print(det.detect("invoice.jpg").box_list())

# 2) 只用 ONNX Runtime Plain ONNX Runtime: the text probability map
import json, cv2, numpy as np, onnxruntime as ort
sess = ort.InferenceSession("{file_name}", providers=["CPUExecutionProvider"])
meta = sess.get_modelmeta().custom_metadata_map          # mean, std, size policy, thresholds
mean, std = np.array(json.loads(meta["mean"])), np.array(json.loads(meta["std"]))
img = cv2.cvtColor(cv2.imread("invoice.jpg"), cv2.COLOR_BGR2RGB)
{resize}
x = np.zeros((h, w, 3), np.float32)                      # pad with the mean colour, never stretch
x[:img.shape[0], :img.shape[1]] = (img / 255.0 - mean) / std
prob = sess.run(["prob"], {{"images": x.transpose(2, 0, 1)[None].astype(np.float32)}})[0][0, 0]
print(prob.shape, float(prob.max()))   # pixels > thresh are text; boxes: models/postprocess.py
'''

# ---------------------------------------------------------------------------- correct and add to a dataset (#14.2)
CORRECT = "校正并加入数据集 Correct and add to a dataset"
EDITOR = "校正框 Correct the boxes"
EDITOR_HINT = ("拖动或缩放框；选中后按 Del 删除；按 C（或方框按钮）后拖出新框并输入文字；双击框可改文字；"
               "“###” 表示训练时忽略。未改动的倾斜框保持原形状。  \n"
               "Drag or resize a box; select one and press Del to delete it; press C (or the box button) and "
               "drag to add one, then type its text; double-click a box to edit its text; `###` = ignore in "
               "training. Boxes you do not touch keep their exact (tilted) shape.")
DATASET_TARGET = "数据集 Dataset"
DATASET_TARGET_INFO = ("选择已有的，或输入新名称（建在 {root} 下）或允许目录内的路径 Pick one, or type a new "
                       "name (created under {root}) or a folder inside the allowed ones")
SPLIT = "划分 Split"
SPLIT_CHOICES = [("训练 train", "train"), ("测试 test", "test")]
IMAGE_NAME = "图片名称 Image name"
IMAGE_NAME_INFO = "数据集中的文件名（默认：上传的文件名）Its name in the dataset (default: the upload's)"
ADD_TO_DATASET = "加入数据集 Add to dataset"
NOTHING_TO_ADD = "请先检测一张图片 Detect an image first: the editor then shows its boxes."
EDITOR_ROTATED = ("请先把图片转回原方向 Turn the picture back to its original orientation before adding: "
                  "the boxes are measured on it.")
UPLOAD_GONE = "图片已不在服务器上 The picture is no longer on the server: upload and detect it again."
ADDED_TO_DATASET = "✅ 已加入 Added `{image}` ({boxes} box(es), {split}).  \n{summary}"
DATASET_SUMMARY = "**`{root}`** — {splits}"
DATASET_SPLIT = "{split}: {images} 张图片 images, {boxes} 个框 boxes"
DATASET_EMPTY = "空 empty (新数据集 a new dataset)"
DATASET_BAD = "❌ `{root}`: {error}"
TITLE_DATASET = "数据集 Dataset"
DATASETS_FOUND = "允许目录中的数据集 Datasets in the allowed folders"
DATASETS_FOUND_INFO = ("包括单图页“加入数据集”建立的 Including those built with “Add to dataset”; "
                       "选择即检查 pick one to check it")
FINETUNE = "一键微调 Fine-tune on it (from the served weights)"
NO_DATASET_PICKED = "请先选择一个数据集 Pick a dataset from the list first."
PROCESSED_FOLDER = "已处理的文件夹 Processed folder"
PROCESSED_FOLDER_INFO = "批量检测的结果，逐张校正后加入数据集 A batch run's results: fix them image by image and add them"
RESULT_IMAGE = "图片 Image"
PREVIOUS = "◀ 上一张 Previous"
NEXT = "下一张 Next ▶"
NOT_A_RESULTS_FOLDER = "不是已处理的文件夹 Not a processed folder of this server: {folder}"
NO_SUCH_RESULT = "没有这张图片的结果 No result for {name} in this folder."

# Gradio's own English texts, shown bilingual like ours: Gradio 6.31 titles every toast with
# its level ("Warning", "Error") whatever title the code sets, and gr.I18n does not override
# its built-in strings. app/web/bilingual.py swaps these exact texts in the page.
GRADIO_TEXTS = {
    "Error": "出错了 Error",
    "Warning": "警告 Warning",
    "Info": "提示 Info",
    "Success": "成功 Success",
    "Drop File Here": "拖放文件到这里 Drop File Here",
    "Click to Upload": "点击上传 Click to Upload",
    "- or -": "或 - or -",
    "Use via API": "通过 API 调用 Use via API",
}
