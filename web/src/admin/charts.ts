import { BarChart } from 'echarts/charts';
import { DatasetComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';

// Only what the console draws: bar charts with a grid, legend and tooltip, as SVG (sharp on any screen).
use([BarChart, GridComponent, LegendComponent, TooltipComponent, DatasetComponent, SVGRenderer]);
